//! The arguments of a message, kept language-neutral until rendering, because some of
//! them read differently in each language: a time becomes UTC text and a date-time
//! group with that language's month names, a kind or precedence becomes that
//! language's label, and a nested text (an area, an alarm inside an e-mail) is rendered
//! in the same language as the message around it.

/// One argument's value before it meets a language.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Shown as given (names, titles, ids, pre-formatted numbers).
    Str(String),
    /// A Fluent number: plural and exact-number variants select on it.
    Num(f64),
    /// Unix milliseconds: `$k` is UTC ("2026-11-24 15:30Z"), `$k_dtg` the date-time
    /// group ("241530Z NOV 26").
    Time(i64),
    /// Another message of the catalog, without arguments (a label such as `kind-other`).
    Label(String),
    /// Another message with its own arguments, rendered in the same language.
    Text(Box<Text>),
}

/// The named arguments of a message, built with chained calls:
/// `Args::new().str("peer", "bravo").num("seconds", 12.0)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    pub(crate) values: Vec<(String, Value)>,
}

impl Args {
    pub fn new() -> Args {
        Args::default()
    }

    fn with(mut self, name: &str, value: Value) -> Args {
        self.values.retain(|(n, _)| n != name);
        self.values.push((name.to_owned(), value));
        self
    }

    /// A text shown as given.
    pub fn str(self, name: &str, value: impl Into<String>) -> Args {
        self.with(name, Value::Str(value.into()))
    }

    /// A number (plural variants select on it). Written with a decimal point and no
    /// grouping, in every language.
    pub fn num(self, name: &str, value: f64) -> Args {
        self.with(name, Value::Num(value))
    }

    /// A time in Unix milliseconds: sets `$name` to UTC ("2026-11-24 15:30Z") and
    /// `$name_dtg` to the date-time group ("241530Z NOV 26"), both cut to the minute.
    pub fn time_ms(self, name: &str, unix_ms: i64) -> Args {
        self.with(name, Value::Time(unix_ms))
    }

    /// The catalog's message `id` (no arguments), in the language being rendered: for
    /// labels the console already has, such as `kind-air_operations` or
    /// `precedence-FLASH`.
    pub fn label(self, name: &str, id: impl Into<String>) -> Args {
        self.with(name, Value::Label(id.into()))
    }

    /// Another text, rendered in the language being rendered.
    pub fn text(self, name: &str, text: Text) -> Args {
        self.with(name, Value::Text(Box::new(text)))
    }

    /// The argument names, in the order they were set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(n, _)| n.as_str())
    }
}

/// A message of the catalog with its arguments: what the typed helpers of
/// [`crate::texts`] build and [`crate::Catalog::render_text`] renders.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub id: String,
    pub args: Args,
}

impl Text {
    pub fn new(id: impl Into<String>, args: Args) -> Text {
        Text { id: id.into(), args }
    }

    /// Every catalog message this text uses: its own, its labels' and its nested
    /// texts', in order, so a test can tell which messages a set of texts covers.
    pub fn message_ids(&self) -> Vec<&str> {
        let mut ids = vec![self.id.as_str()];
        for (_, value) in &self.args.values {
            match value {
                Value::Label(label) => ids.push(label),
                Value::Text(text) => ids.extend(text.message_ids()),
                Value::Str(_) | Value::Num(_) | Value::Time(_) => {}
            }
        }
        ids
    }
}
