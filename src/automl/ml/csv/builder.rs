//! Column type inference while the rows stream in.
//!
//! A column starts out numerical. As long as every non-missing value parses as a finite
//! `f64` it stays numerical, keeping the numbers and (compactly) the original text. The
//! first value that does not parse turns it categorical: the text kept so far is replayed
//! into the level table, so `007` stays `007` rather than becoming `7`.
//!
//! A value that reads as a number but not a finite one (`inf`, `-Infinity`, `1e999`)
//! is kept as text. If the column later turns categorical it is just a label there; if
//! the column would otherwise be numerical, [`ColumnBuilder::finish`] refuses it with an
//! error naming the column and the line, rather than silently changing the column's
//! type (a regression target with one `Infinity` would become a classification).

use std::collections::HashMap;

use super::super::frame::{Column, ColumnData, MISSING_TOKENS};
use super::tokenizer::Field;

/// True when a field counts as a missing value.
pub(crate) fn is_missing(field: &Field) -> bool {
    field.text.is_empty() || (!field.quoted && MISSING_TOKENS.contains(&field.text.as_str()))
}

/// Collects one column's values and infers its type.
#[derive(Debug)]
pub(crate) struct ColumnBuilder {
    name: String,
    kind: Kind,
    /// The first non-finite number read while numerical: its line and text.
    non_finite: Option<(usize, String)>,
}

#[derive(Debug)]
enum Kind {
    /// Every value so far was missing or a finite number.
    Numerical {
        values: Vec<f64>,
        /// All original texts concatenated; `ends[i]` closes row `i` (empty = missing).
        text: String,
        ends: Vec<usize>,
    },
    /// Interned labels in order of first appearance.
    Categorical {
        index: HashMap<String, u32>,
        levels: Vec<String>,
        codes: Vec<Option<u32>>,
    },
}

impl ColumnBuilder {
    /// An empty column called `name`.
    pub(crate) fn new(name: String) -> Self {
        let kind = Kind::Numerical {
            values: Vec::new(),
            text: String::new(),
            ends: Vec::new(),
        };
        ColumnBuilder {
            name,
            kind,
            non_finite: None,
        }
    }

    /// Appends one row's value, read on line `line`.
    pub(crate) fn push(&mut self, field: &Field, line: usize) {
        let missing = is_missing(field);
        if let Kind::Numerical { values, text, ends } = &mut self.kind {
            let number = if missing {
                Some(f64::NAN)
            } else {
                match field.text.parse::<f64>() {
                    Ok(x) if !x.is_finite() => {
                        self.non_finite.get_or_insert((line, field.text.clone()));
                        Some(f64::NAN)
                    }
                    parsed => parsed.ok().filter(|x| x.is_finite()),
                }
            };
            if let Some(x) = number {
                values.push(x);
                if !missing {
                    text.push_str(&field.text);
                }
                ends.push(text.len());
                return;
            }
            self.make_categorical();
        }
        if let Kind::Categorical {
            index,
            levels,
            codes,
        } = &mut self.kind
        {
            codes.push(if missing {
                None
            } else {
                Some(intern(index, levels, &field.text))
            });
        }
    }

    /// The finished column; categorical levels are sorted. `Err((line, text))` for a
    /// numerical column holding a non-finite number (see the module docs).
    pub(crate) fn finish(self) -> Result<Column, (String, usize, String)> {
        let data = match self.kind {
            Kind::Numerical { values, .. } => match self.non_finite {
                Some((line, text)) => return Err((self.name, line, text)),
                None => ColumnData::Numerical(values),
            },
            Kind::Categorical { levels, codes, .. } => sorted_levels(levels, codes),
        };
        Ok(Column {
            name: self.name,
            data,
        })
    }

    fn make_categorical(&mut self) {
        let Kind::Numerical { text, ends, .. } = &self.kind else {
            return;
        };
        let (mut index, mut levels) = (HashMap::new(), Vec::new());
        let mut start = 0;
        let mut codes = Vec::with_capacity(ends.len() + 1);
        for &end in ends {
            let value = &text[start..end];
            codes.push((!value.is_empty()).then(|| intern(&mut index, &mut levels, value)));
            start = end;
        }
        self.kind = Kind::Categorical {
            index,
            levels,
            codes,
        };
    }
}

fn intern(index: &mut HashMap<String, u32>, levels: &mut Vec<String>, value: &str) -> u32 {
    if let Some(&code) = index.get(value) {
        return code;
    }
    let code = levels.len() as u32;
    index.insert(value.to_owned(), code);
    levels.push(value.to_owned());
    code
}

fn sorted_levels(levels: Vec<String>, codes: Vec<Option<u32>>) -> ColumnData {
    let mut order: Vec<u32> = (0..levels.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| levels[a as usize].cmp(&levels[b as usize]));
    let mut remap = vec![0u32; levels.len()];
    for (new, &old) in order.iter().enumerate() {
        remap[old as usize] = new as u32;
    }
    let codes = codes
        .into_iter()
        .map(|c| c.map(|c| remap[c as usize]))
        .collect();
    let mut slots: Vec<Option<String>> = levels.into_iter().map(Some).collect();
    let levels = order
        .iter()
        .filter_map(|&old| slots[old as usize].take())
        .collect();
    ColumnData::Categorical { levels, codes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(text: &str, quoted: bool) -> Field {
        Field {
            text: text.to_owned(),
            quoted,
        }
    }

    fn build(values: &[(&str, bool)]) -> ColumnData {
        let mut b = ColumnBuilder::new("c".into());
        let lines = 2..;
        values
            .iter()
            .zip(lines)
            .for_each(|(&(t, q), line)| b.push(&field(t, q), line));
        b.finish().expect("finite numbers or text").data
    }

    #[test]
    fn numbers_and_missing_stay_numerical() {
        let ColumnData::Numerical(v) =
            build(&[("1", false), ("NA", false), ("2.5e1", true), ("", false)])
        else {
            panic!("expected numerical")
        };
        assert_eq!(v[0], 1.0);
        assert!(v[1].is_nan() && v[3].is_nan());
        assert_eq!(v[2], 25.0);
    }

    #[test]
    fn late_text_turns_column_categorical_keeping_original_text() {
        let data = build(&[
            ("007", false),
            ("?", false),
            ("1.0", false),
            ("x", false),
            ("007", false),
        ]);
        let ColumnData::Categorical { levels, codes } = data else {
            panic!("expected categorical")
        };
        assert_eq!(levels, ["007", "1.0", "x"]);
        assert_eq!(codes, [Some(0), None, Some(1), Some(2), Some(0)]);
    }

    #[test]
    fn infinity_is_a_label_among_text_and_an_error_among_numbers() {
        let ColumnData::Categorical { levels, .. } =
            build(&[("1", false), ("inf", false), ("x", false)])
        else {
            panic!("expected categorical")
        };
        assert_eq!(levels, ["1", "inf", "x"]);
        for bad in ["inf", "-Infinity", "1e999", "+inf"] {
            let mut b = ColumnBuilder::new("y".into());
            b.push(&field("2.5", false), 2);
            b.push(&field(bad, false), 3);
            b.push(&field("4", false), 4);
            assert_eq!(b.finish().unwrap_err(), ("y".into(), 3, bad.to_owned()));
        }
    }

    #[test]
    fn quoted_missing_tokens_are_text() {
        let ColumnData::Categorical { levels, codes } = build(&[("NA", true), ("NA", false)])
        else {
            panic!("expected categorical")
        };
        assert_eq!(
            (levels, codes),
            (vec!["NA".to_owned()], vec![Some(0), None])
        );
    }
}
