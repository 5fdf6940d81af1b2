//! Integration tests of `hotline-i18n`, in one binary so the suite links once: every
//! station message exists in every shipped catalog and renders cleanly with its
//! arguments, and the typed texts read as they should in English and Russian.

mod catalogs;
mod samples;
mod texts;
