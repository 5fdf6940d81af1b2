//! Why: the baseline is what users would otherwise script: a `geography` column with a
//! GiST index and `ST_DWithin` plus time and altitude predicates, on a real PostgreSQL
//! 15 + PostGIS with fsync on, loaded with COPY and queried over loopback with a
//! prepared statement, one query per check, exactly as the station would have to.

use std::io::Write;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use hotline_notice::{Area, ConflictIndex, Notice, Polygon, Separation};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use crate::generate::{CIRCLE_RADIUS_MAX_M, radius_m, wkt};

/// Settings a DBA would give a 1,000,000-row spatial table on this machine; fsync stays
/// on (the default) because this is a baseline, not a correctness test.
pub const SERVER_OPTIONS: &str = "-c fsync=on -c shared_buffers=2GB -c effective_cache_size=8GB \
     -c maintenance_work_mem=1GB -c work_mem=64MB -c max_wal_size=8GB -c checkpoint_timeout=30min \
     -c jit=off -c max_parallel_maintenance_workers=2";

const SCHEMA: &str = "
    CREATE EXTENSION IF NOT EXISTS postgis;
    DROP TABLE IF EXISTS notices;
    CREATE TABLE notices (
        id       bigint NOT NULL,
        area     geography NOT NULL,   -- a polygon, or a circle's centre
        radius_m float8 NOT NULL,      -- the circle's radius, 0 for polygons
        start_ms bigint NOT NULL,
        end_ms   bigint NOT NULL,
        alt_min  float8 NOT NULL,      -- -Infinity when the band is absent
        alt_max  float8 NOT NULL       -- Infinity when the band is absent
    );";

/// One check. `&&` with `_ST_Expand` is the index condition `ST_DWithin` itself would
/// add, written out because a circle's distance (`$3 + radius_m`) varies by row and
/// PostGIS only derives the index condition from a constant distance; `$2` widens by the
/// largest radius stored, so no row within reach is missed.
const QUERY: &str = "
    SELECT id FROM notices
    WHERE area && _ST_Expand($1::geography, $2)
      AND ST_DWithin(area, $1::geography, $3 + radius_m)
      AND start_ms <= $5 AND end_ms >= $4
      AND alt_min <= $7 AND alt_max >= $6";

pub struct Load {
    pub copy: Duration,
    pub index: Duration,
    pub analyze: Duration,
    pub table_bytes: i64,
    pub index_bytes: i64,
}

pub fn connect(port: u16) -> Result<Client, postgres::Error> {
    Client::connect(&format!("host=127.0.0.1 port={port} user=postgres dbname=postgres"), NoTls)
}

fn infinite(x: f64) -> String {
    if x == f64::INFINITY {
        "Infinity".into()
    } else if x == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        format!("{x}")
    }
}

fn millis(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Loads every notice of the index (ids `0..count`) with COPY, then builds the GiST index.
pub fn load(client: &mut Client, index: &ConflictIndex<u64>, count: u64) -> Result<Load, Box<dyn std::error::Error>> {
    client.batch_execute(SCHEMA)?;
    let t = Instant::now();
    let mut writer = client.copy_in("COPY notices FROM STDIN")?;
    {
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, &mut writer);
        for id in 0..count {
            let Some(n) = index.get(&id) else { continue };
            let band = n.band();
            writeln!(
                buf,
                "{id}\t{}\t{}\t{}\t{}\t{}\t{}",
                wkt(&n.area),
                radius_m(&n.area),
                millis(n.start),
                millis(n.end),
                infinite(band.min_m),
                infinite(band.max_m)
            )?;
        }
        buf.flush()?;
    }
    writer.finish()?;
    let copy = t.elapsed();
    let t = Instant::now();
    client.batch_execute("CREATE INDEX notices_area ON notices USING gist (area)")?;
    let index_time = t.elapsed();
    let t = Instant::now();
    client.batch_execute("ANALYZE notices; CHECKPOINT")?;
    let analyze = t.elapsed();
    let row = client.query_one("SELECT pg_table_size('notices'), pg_indexes_size('notices')", &[])?;
    Ok(Load { copy, index: index_time, analyze, table_bytes: row.get(0), index_bytes: row.get(1) })
}

/// A query area sent as a binary `geography` parameter (WKB), so PostgreSQL neither
/// parses text per query nor, with a generic plan, per row.
#[derive(Debug)]
struct Wkb(Vec<u8>);

impl Wkb {
    fn of(area: &Area) -> Wkb {
        let mut b = Vec::new();
        let head = |b: &mut Vec<u8>, ty: u32| {
            b.push(1); // little-endian
            b.extend_from_slice(&ty.to_le_bytes());
        };
        let poly = |b: &mut Vec<u8>, p: &Polygon| {
            head(b, 3);
            b.extend_from_slice(&(p.rings.len() as u32).to_le_bytes());
            for r in &p.rings {
                b.extend_from_slice(&(r.len() as u32).to_le_bytes());
                for q in r {
                    b.extend_from_slice(&q[0].to_le_bytes());
                    b.extend_from_slice(&q[1].to_le_bytes());
                }
            }
        };
        match area {
            Area::Circle { center, .. } => {
                head(&mut b, 1);
                b.extend_from_slice(&center[0].to_le_bytes());
                b.extend_from_slice(&center[1].to_le_bytes());
            }
            Area::Polygon(p) => poly(&mut b, p),
            Area::MultiPolygon(ps) => {
                head(&mut b, 6);
                b.extend_from_slice(&(ps.len() as u32).to_le_bytes());
                for p in ps {
                    poly(&mut b, p);
                }
            }
        }
        Wkb(b)
    }
}

impl ToSql for Wkb {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "geography"
    }

    to_sql_checked!();
}

pub struct Prepared {
    statement: Statement,
}

/// The parameters of one check.
fn params(n: &Notice, sep: &Separation) -> (Wkb, f64, f64, i64, i64, f64, f64) {
    let r = radius_m(&n.area);
    let buffer_ms = sep.time_buffer.whole_milliseconds() as i64;
    let band = n.band();
    (
        Wkb::of(&n.area),
        sep.lateral_m + r + CIRCLE_RADIUS_MAX_M,
        sep.lateral_m + r,
        millis(n.start) - buffer_ms,
        millis(n.end) + buffer_ms,
        band.min_m - sep.vertical_m,
        band.max_m + sep.vertical_m,
    )
}

impl Prepared {
    pub fn new(client: &mut Client) -> Result<Prepared, postgres::Error> {
        Ok(Prepared { statement: client.prepare(QUERY)? })
    }

    /// Ids of the notices in conflict with `n`, sorted.
    pub fn check(&self, client: &mut Client, n: &Notice, sep: &Separation) -> Result<Vec<u64>, postgres::Error> {
        let p = params(n, sep);
        let rows = client.query(&self.statement, &[&p.0, &p.1, &p.2, &p.3, &p.4, &p.5, &p.6])?;
        let mut ids: Vec<u64> = rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// The plan PostgreSQL picks for one check, to show the index is used.
    pub fn explain(&self, client: &mut Client, n: &Notice, sep: &Separation) -> Result<String, postgres::Error> {
        let p = params(n, sep);
        let sql = format!("EXPLAIN {QUERY}");
        let rows = client.query(&sql, &[&p.0, &p.1, &p.2, &p.3, &p.4, &p.5, &p.6])?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>().join("\n"))
    }
}
