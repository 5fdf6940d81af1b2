//! Why: one typed shape for a notice, shared by both stations, so that what was filed,
//! what travels on the line and what the conflict check reads are the same thing.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What kind of planned activity a notice announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    AirOperations,
    MissileTest,
    NavalExercise,
    AirspaceClosure,
    GroundOperations,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::AirOperations,
        Kind::MissileTest,
        Kind::NavalExercise,
        Kind::AirspaceClosure,
        Kind::GroundOperations,
        Kind::Other,
    ];

    /// The wire name, as in PRODUCT.md.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AirOperations => "air_operations",
            Kind::MissileTest => "missile_test",
            Kind::NavalExercise => "naval_exercise",
            Kind::AirspaceClosure => "airspace_closure",
            Kind::GroundOperations => "ground_operations",
            Kind::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A position as GeoJSON writes it: `[longitude, latitude]` in degrees.
pub type Position = [f64; 2];

/// One polygon: the exterior ring first, then holes. Rings are closed (first == last).
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub rings: Vec<Vec<Position>>,
}

/// The area of a notice. Edges between positions are great-circle arcs, as PostGIS
/// `geography` reads them; areas crossing the antimeridian are split at ±180 (RFC 7946).
#[derive(Debug, Clone, PartialEq)]
pub enum Area {
    Polygon(Polygon),
    MultiPolygon(Vec<Polygon>),
    /// A GeoJSON Point with a `radius_m` member: every point within `radius_m` metres
    /// (geodesic, WGS84) of the centre.
    Circle {
        center: Position,
        radius_m: f64,
    },
}

impl Area {
    /// The polygons of this area (empty for a circle).
    pub fn polygons(&self) -> &[Polygon] {
        match self {
            Area::Polygon(p) => std::slice::from_ref(p),
            Area::MultiPolygon(ps) => ps,
            Area::Circle { .. } => &[],
        }
    }

    /// The GeoJSON geometry object, as it is parsed.
    pub fn to_geojson(&self) -> Value {
        let poly = |p: &Polygon| json!(p.rings);
        match self {
            Area::Polygon(p) => json!({"type": "Polygon", "coordinates": poly(p)}),
            Area::MultiPolygon(ps) => json!({
                "type": "MultiPolygon",
                "coordinates": ps.iter().map(poly).collect::<Vec<_>>(),
            }),
            Area::Circle { center, radius_m } => {
                json!({"type": "Point", "coordinates": center, "radius_m": radius_m})
            }
        }
    }
}

/// An altitude band in metres. A notice without one covers surface to unlimited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AltitudeBand {
    pub min_m: f64,
    pub max_m: f64,
}

impl AltitudeBand {
    /// Surface to unlimited: what an absent band means.
    pub const UNLIMITED: AltitudeBand = AltitudeBand { min_m: f64::NEG_INFINITY, max_m: f64::INFINITY };
}

/// A planned activity, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub kind: Kind,
    pub area: Area,
    pub altitude: Option<AltitudeBand>,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub title: String,
    pub remarks: String,
    pub lang: String,
}

impl Notice {
    /// The altitude band the conflict check uses (absent = surface to unlimited).
    pub fn band(&self) -> AltitudeBand {
        self.altitude.unwrap_or(AltitudeBand::UNLIMITED)
    }

    /// The notice as JSON, in the shape `parse_notice` reads.
    pub fn to_json(&self) -> Value {
        let time = |t: &OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        let mut v = json!({
            "kind": self.kind.as_str(),
            "area": self.area.to_geojson(),
            "start": time(&self.start),
            "end": time(&self.end),
            "title": self.title,
            "remarks": self.remarks,
            "lang": self.lang,
        });
        if let (Some(a), Some(obj)) = (self.altitude, v.as_object_mut()) {
            obj.insert("altitude".into(), json!({"min_m": a.min_m, "max_m": a.max_m}));
        }
        v
    }
}

/// Validation limits, configurable per station.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Total positions over all rings of an area.
    pub vertices_max: usize,
    /// Longest allowed window from start to end.
    pub window_days_max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { vertices_max: 10_000, window_days_max: 30 }
    }
}
