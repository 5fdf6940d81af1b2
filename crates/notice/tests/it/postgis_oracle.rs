//! Why: users would otherwise script deconfliction with PostGIS, so our lateral test must
//! give the same answer as `ST_DWithin(geography, geography, d)` on randomized pairs,
//! near the poles and across the antimeridian too, except within 0.5 % of the threshold.
//! The test starts a throwaway PostgreSQL + PostGIS on loopback and SKIPs (prints why,
//! passes) when PostGIS cannot be installed or started.

use crate::pg;
use crate::shapes;

use hotline_notice::{Limits, Separation, area_distance_m, conflict, parse_notice};
use shapes::{Rng, Shape, random_pair};

const THRESHOLD_M: f64 = 9_260.0;
const BAND: f64 = 0.005;
/// Defaults; `HOTLINE_ORACLE_PAIRS` and `HOTLINE_ORACLE_SEED` override them for longer runs.
const PAIRS: usize = 2_400;
const SEED: u64 = 0x5eed_4077_1de5_0001;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn agrees_with_postgis_st_dwithin() {
    let server = match pg::Server::start() {
        Ok(s) => s,
        Err(why) => {
            println!("SKIP agrees_with_postgis_st_dwithin: {why}");
            return;
        }
    };
    let (pairs_wanted, seed) = (env_or("HOTLINE_ORACLE_PAIRS", PAIRS), env_or("HOTLINE_ORACLE_SEED", SEED));
    let mut rng = Rng(seed);
    let mut pairs: Vec<(Shape, Shape, f64, bool)> = Vec::new();
    let sep = Separation::default();
    let mut rejected = 0;
    while pairs.len() < pairs_wanted {
        let (a, b) = random_pair(&mut rng, pairs.len());
        let parsed = (|| {
            let na = parse_notice(&a.notice_json(), &Limits::default()).ok()?;
            let nb = parse_notice(&b.notice_json(), &Limits::default()).ok()?;
            // Same window, no altitude: `conflict` decides on the lateral test alone.
            Some((area_distance_m(&na.area, &nb.area), conflict(&na, &nb, &sep).is_some()))
        })();
        match parsed {
            Some((d, c)) => pairs.push((a, b, d, c)),
            None => rejected += 1,
        }
    }
    let mut sql = String::from(
        "CREATE EXTENSION IF NOT EXISTS postgis;\nCREATE TEMP TABLE pairs(i int, a text, b text, d float8, r float8);\nINSERT INTO pairs VALUES\n",
    );
    for (i, (a, b, _, _)) in pairs.iter().enumerate() {
        let radii = a.radius_m() + b.radius_m();
        let sep = if i + 1 == pairs.len() { ";" } else { "," };
        sql += &format!("({i}, '{}', '{}', {}, {}){sep}\n", a.wkt(), b.wkt(), THRESHOLD_M + radii, radii);
    }
    sql += "SELECT i, ST_DWithin(ga, gb, d), ST_Distance(ga, gb) - r FROM \
            (SELECT i, d, r, ST_GeogFromText(a) ga, ST_GeogFromText(b) gb FROM pairs) p ORDER BY i;\n";
    let out = match server.psql(&sql) {
        Ok(o) => o,
        Err(e) => panic!("PostGIS query failed: {e}"),
    };
    let (mut compared, mut agreed, mut in_band, mut polar, mut antimeridian) = (0, 0, 0, 0, 0);
    let (mut within, mut max_diff_m, mut max_rel) = (0, 0.0_f64, 0.0_f64);
    let mut max_rel_near = 0.0_f64; // over pairs 0 < d <= 2 * threshold
    let mut worst_near = String::new();
    let mut disagreements = Vec::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() != 3 {
            continue;
        }
        let i: usize = f[0].parse().expect("index");
        let pg_within = f[1] == "t";
        let pg_d = f[2].parse::<f64>().expect("distance").max(0.0);
        let (a, b, ours, our_conflict) = &pairs[i];
        if *ours > 0.0 && pg_d > 0.0 {
            max_diff_m = max_diff_m.max((ours - pg_d).abs());
            max_rel = max_rel.max((ours - pg_d).abs() / pg_d);
            if pg_d <= 2.0 * THRESHOLD_M && (ours - pg_d).abs() / pg_d > max_rel_near {
                max_rel_near = (ours - pg_d).abs() / pg_d;
                worst_near = format!("pair {i}: ours {ours:.3} m, PostGIS {pg_d:.3} m");
            }
        }
        let near = |d: f64| (d - THRESHOLD_M).abs() <= BAND * THRESHOLD_M;
        if near(*ours) || near(pg_d) {
            in_band += 1;
            continue;
        }
        compared += 1;
        polar += usize::from(a.polar() || b.polar());
        antimeridian += usize::from(a.split() || b.split());
        let our_within = *ours <= THRESHOLD_M;
        assert_eq!(our_within, *our_conflict, "pair {i}: conflict() and the distance disagree");
        within += usize::from(our_within);
        if our_within == pg_within {
            agreed += 1;
        } else {
            disagreements.push(format!(
                "pair {i}: ours {ours:.2} m, PostGIS {pg_d:.2} m ({pg_within})\n  A {}\n  B {}",
                a.wkt(),
                b.wkt()
            ));
        }
    }
    println!(
        "PostGIS oracle (seed {seed}): {} pairs generated ({rejected} random shapes rejected by validation), \
         {in_band} within 0.5 % of {THRESHOLD_M} m left out, {compared} compared, {agreed} agreed \
         ({within} within, {polar} polar, {antimeridian} antimeridian-split); \
         largest distance difference {max_diff_m:.4} m (relative {:.5} %; {:.5} % where \
         PostGIS says 0 < d <= {} m)",
        pairs.len(),
        max_rel * 100.0,
        max_rel_near * 100.0,
        2.0 * THRESHOLD_M
    );
    println!("largest relative difference near the threshold: {worst_near}");
    assert!(compared >= pairs_wanted * 5 / 6, "only {compared} pairs compared");
    assert!(disagreements.is_empty(), "disagreements:\n{}", disagreements.join("\n"));
}
