//! Why: notices arrive as JSON from operators, scripts and the peer station; this turns
//! that JSON into a validated `Notice` or one precise error, never a panic.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::error::NoticeError;
use crate::model::{AltitudeBand, Area, Kind, Limits, Notice, Polygon, Position};
use crate::validate::check_area;

/// Parses and validates a notice in the JSON shape of PRODUCT.md.
pub fn parse_notice(json: &str, limits: &Limits) -> Result<Notice, NoticeError> {
    let v: Value = serde_json::from_str(json).map_err(|e| NoticeError::Json {
        line: e.line(),
        column: e.column(),
        reason: e.to_string(),
    })?;
    notice_from_value(&v, limits)
}

/// Validates a notice already parsed as a JSON value.
pub fn notice_from_value(v: &Value, limits: &Limits) -> Result<Notice, NoticeError> {
    let obj = v.as_object().ok_or_else(|| wrong("notice", "a JSON object"))?;
    let kind_name = req_str(obj, "kind")?;
    let kind = Kind::from_name(kind_name).ok_or_else(|| NoticeError::UnknownKind(kind_name.into()))?;
    let area = parse_area(obj.get("area").ok_or_else(|| missing("area"))?, limits)?;
    let altitude = match obj.get("altitude") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => {
            let min_m = req_num(a, "altitude.min_m", "min_m")?;
            let max_m = req_num(a, "altitude.max_m", "max_m")?;
            if min_m > max_m {
                return Err(NoticeError::AltitudeInverted { min_m, max_m });
            }
            Some(AltitudeBand { min_m, max_m })
        }
        Some(_) => return Err(wrong("altitude", "an object {min_m, max_m}")),
    };
    let start_s = req_str(obj, "start")?;
    let end_s = req_str(obj, "end")?;
    let start = parse_time("start", start_s)?;
    let end = parse_time("end", end_s)?;
    if end <= start {
        return Err(NoticeError::EndBeforeStart { start: start_s.into(), end: end_s.into() });
    }
    if end - start > Duration::days(i64::from(limits.window_days_max)) {
        return Err(NoticeError::WindowTooLong {
            start: start_s.into(),
            end: end_s.into(),
            max_days: limits.window_days_max,
        });
    }
    Ok(Notice {
        kind,
        area,
        altitude,
        start,
        end,
        title: req_str(obj, "title")?.to_owned(),
        remarks: opt_str(obj, "remarks")?.unwrap_or("").to_owned(),
        lang: opt_str(obj, "lang")?.unwrap_or("und").to_owned(),
    })
}

fn missing(field: &str) -> NoticeError {
    NoticeError::Missing { field: field.into() }
}

fn wrong(field: &str, expected: &str) -> NoticeError {
    NoticeError::WrongType { field: field.into(), expected: expected.into() }
}

fn req_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, NoticeError> {
    opt_str(obj, key)?.ok_or_else(|| missing(key))
}

fn opt_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, NoticeError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong(key, "a string")),
    }
}

fn req_num(obj: &Map<String, Value>, field: &str, key: &str) -> Result<f64, NoticeError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(missing(field)),
        Some(v) => v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| wrong(field, "a number")),
    }
}

fn parse_time(field: &str, s: &str) -> Result<OffsetDateTime, NoticeError> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| NoticeError::BadTime {
        field: field.into(),
        value: s.into(),
        reason: e.to_string(),
    })?;
    if t.offset() != UtcOffset::UTC {
        return Err(NoticeError::NotUtc { field: field.into(), value: s.into() });
    }
    Ok(t)
}

fn geo_err(msg: String) -> NoticeError {
    NoticeError::InvalidGeoJson(msg)
}

fn parse_area(v: &Value, limits: &Limits) -> Result<Area, NoticeError> {
    let obj = v.as_object().ok_or_else(|| geo_err("the area must be a GeoJSON geometry object".into()))?;
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        _ => return Err(geo_err("the geometry has no \"type\" string".into())),
    };
    let coords = obj.get("coordinates").ok_or_else(|| geo_err(format!("the {ty} has no \"coordinates\"")))?;
    let area = match ty {
        "Point" => {
            let center = position(coords, "the Point")?;
            let radius_m = match obj.get("radius_m") {
                None => return Err(geo_err("a Point area needs a \"radius_m\" member (a circle)".into())),
                Some(r) => r
                    .as_f64()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| geo_err("\"radius_m\" must be a number".into()))?,
            };
            if radius_m <= 0.0 {
                return Err(NoticeError::BadRadius(radius_m));
            }
            return Ok(Area::Circle { center, radius_m });
        }
        "Polygon" => Area::Polygon(polygon(coords, 1)?),
        "MultiPolygon" => {
            let polys = coords
                .as_array()
                .ok_or_else(|| geo_err("MultiPolygon coordinates must be an array of polygons".into()))?;
            if polys.is_empty() {
                return Err(geo_err("the MultiPolygon has no polygons".into()));
            }
            let mut out = Vec::with_capacity(polys.len());
            for (i, p) in polys.iter().enumerate() {
                out.push(polygon(p, i + 1)?);
            }
            Area::MultiPolygon(out)
        }
        other => {
            return Err(geo_err(format!(
                "geometry type \"{other}\" is not accepted; use Polygon, MultiPolygon or Point with radius_m"
            )));
        }
    };
    let count: usize = area.polygons().iter().flat_map(|p| &p.rings).map(Vec::len).sum();
    if count > limits.vertices_max {
        return Err(NoticeError::TooManyVertices { count, max: limits.vertices_max });
    }
    check_area(area.polygons())?;
    Ok(area)
}

fn polygon(v: &Value, number: usize) -> Result<Polygon, NoticeError> {
    let rings =
        v.as_array().ok_or_else(|| geo_err(format!("polygon {number}: coordinates must be an array of rings")))?;
    if rings.is_empty() {
        return Err(geo_err(format!("polygon {number} has no rings")));
    }
    let mut out = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let pts = ring
            .as_array()
            .ok_or_else(|| geo_err(format!("polygon {number}, ring {}: must be an array of positions", r + 1)))?;
        let mut ring_out = Vec::with_capacity(pts.len());
        for (k, p) in pts.iter().enumerate() {
            let at = format!("polygon {number}, ring {}, position {}", r + 1, k + 1);
            ring_out.push(position(p, &at)?);
        }
        out.push(ring_out);
    }
    Ok(Polygon { rings: out })
}

fn position(v: &Value, at: &str) -> Result<Position, NoticeError> {
    let arr = v
        .as_array()
        .filter(|a| (2..=3).contains(&a.len()))
        .ok_or_else(|| geo_err(format!("{at}: a position must be [longitude, latitude]")))?;
    let num = |i: usize| {
        arr[i].as_f64().filter(|x| x.is_finite()).ok_or_else(|| geo_err(format!("{at}: coordinates must be numbers")))
    };
    let (lon, lat) = (num(0)?, num(1)?);
    if !(-180.0..=180.0).contains(&lon) {
        return Err(NoticeError::LongitudeOutOfRange { at: at.into(), value: lon });
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(NoticeError::LatitudeOutOfRange { at: at.into(), value: lat });
    }
    Ok([lon, lat])
}
