//! Typed front matter values: text from any scalar, one-or-many name
//! lists, and reading one field of the mapping with its own error.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use yaml_serde::{Mapping, Value};

/// Reads one field; a null field counts as absent. `Err` is the message.
pub fn field<T: serde::de::DeserializeOwned>(
    mapping: &Mapping,
    key: &str,
) -> Result<Option<T>, String> {
    match mapping.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => yaml_serde::from_value(value.clone())
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

/// A scalar read as text: strings, numbers and booleans.
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A list of names, also accepted as a single string or as nothing. A
/// `null` entry (a bare `- ` in YAML) is dropped and counted.
#[derive(Debug, Default)]
pub struct OneOrMany(pub Vec<String>, pub usize, pub usize);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of names, or a single name")
            }
            fn visit_unit<E: de::Error>(self) -> Result<OneOrMany, E> {
                Ok(OneOrMany::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<OneOrMany, E> {
                Ok(OneOrMany::default())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(split_names(v), 0, 0))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()], 0, 0))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()], 0, 0))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut names: Vec<String> = Vec::new();
                let (mut nulls, mut blanks) = (0, 0);
                while let Some(entry) = seq.next_element::<Option<Text>>()? {
                    let Some(Text(name)) = entry else {
                        nulls += 1;
                        continue;
                    };
                    let name = name.trim().to_owned();
                    if name.is_empty() {
                        blanks += 1;
                    } else if !names.contains(&name) {
                        names.push(name);
                    }
                }
                Ok(OneOrMany(names, nulls, blanks))
            }
        }
        d.deserialize_any(V)
    }
}

/// A thumbnail: a path or URL, or (as Knowledge Repo writes it) the
/// number of one of the post's images, counted from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thumbnail {
    Path(String),
    Nth(usize),
}

impl<'de> Deserialize<'de> for Thumbnail {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(text) = Text::deserialize(d)?;
        let text = text.trim();
        Ok(match text.parse::<usize>() {
            Ok(n) => Thumbnail::Nth(n),
            Err(_) => Thumbnail::Path(text.to_owned()),
        })
    }
}

/// A single string may still list several names, separated by commas.
fn split_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}
