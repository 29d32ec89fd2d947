//! Column type inference while the rows stream in.
//!
//! A column starts out numerical. As long as every non-missing value parses as a finite
//! `f64` it stays numerical, keeping the numbers and (compactly) the original text. The
//! first value that does not parse turns it categorical: the text kept so far is replayed
//! into the level table, so `007` stays `007` rather than becoming `7`.

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
        ColumnBuilder { name, kind }
    }

    /// Appends one row's value.
    pub(crate) fn push(&mut self, field: &Field) {
        let missing = is_missing(field);
        if let Kind::Numerical { values, text, ends } = &mut self.kind {
            let number = if missing {
                Some(f64::NAN)
            } else {
                parse_finite(&field.text)
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

    /// The finished column; categorical levels are sorted.
    pub(crate) fn finish(self) -> Column {
        let data = match self.kind {
            Kind::Numerical { values, .. } => ColumnData::Numerical(values),
            Kind::Categorical { levels, codes, .. } => sorted_levels(levels, codes),
        };
        Column {
            name: self.name,
            data,
        }
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

fn parse_finite(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|x| x.is_finite())
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
        values.iter().for_each(|&(t, q)| b.push(&field(t, q)));
        b.finish().data
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
    fn infinity_and_quoted_tokens_are_text() {
        assert!(matches!(
            build(&[("inf", false)]),
            ColumnData::Categorical { .. }
        ));
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
