//! A stored frame reads back bit for bit; damaged bytes are refused, never a panic.

use super::*;

/// A frame with every column type, odd floats, missing values, an empty level list and
/// unusual date formats.
fn every_kind() -> Frame {
    let odd_nan = f64::from_bits(0x7ff8_dead_beef_0001);
    let numbers = vec![
        1.5,
        f64::NAN,
        -0.0,
        odd_nan,
        -f64::NAN,
        f64::INFINITY,
        1e-310,
    ];
    let rows = numbers.len();
    let labels = [
        Some("b"),
        None,
        Some(""),
        Some("é ü"),
        Some("b"),
        None,
        Some("a,b"),
    ];
    let empty_levels = Column {
        name: "never".into(),
        data: ColumnData::Categorical {
            levels: vec![],
            codes: vec![None; rows],
        },
    };
    let moments = Column {
        name: "when".into(),
        data: ColumnData::Datetime {
            millis: vec![
                Some(0),
                None,
                Some(-1),
                Some(i64::MIN),
                Some(i64::MAX),
                None,
                Some(7),
            ],
            format: DateFormat {
                date_sep: '/',
                time_sep: 'T',
                time: TimePart::Fraction(2),
                zulu: true,
            },
        },
    };
    let plain_date = Column {
        name: "day".into(),
        data: ColumnData::Datetime {
            millis: vec![Some(DAY_MS); rows],
            format: DateFormat {
                date_sep: '-',
                time_sep: '→',
                time: TimePart::None,
                zulu: false,
            },
        },
    };
    let columns = vec![
        Column::numerical("x", numbers),
        Column::categorical("c", &labels),
        empty_levels,
        moments,
        plain_date,
        Column::numerical("ünïcode name", vec![0.0; rows]),
    ];
    Frame::new(columns).unwrap()
}

/// Whether two frames are the same, numbers compared by their bits.
fn same_bits(a: &Frame, b: &Frame) -> bool {
    let column = |x: &Column, y: &Column| match (&x.data, &y.data) {
        (ColumnData::Numerical(u), ColumnData::Numerical(v)) => {
            u.len() == v.len() && u.iter().zip(v).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        _ => x == y,
    };
    a.rows() == b.rows()
        && a.columns().len() == b.columns().len()
        && a.columns()
            .iter()
            .zip(b.columns())
            .all(|(x, y)| x.name == y.name && column(x, y))
}

#[test]
fn every_column_type_round_trips_bit_for_bit() {
    let frame = every_kind();
    let bytes = frame.to_stored();
    assert_eq!(&bytes[..8], b"TLFRAME\0");
    let back = Frame::from_stored(&bytes).unwrap();
    assert!(same_bits(&frame, &back), "{frame:?}\n{back:?}");
    let ColumnData::Numerical(x) = &back.column("x").unwrap().data else {
        panic!("x is numerical")
    };
    assert_eq!(x[2].to_bits(), (-0.0f64).to_bits());
    assert_eq!(x[3].to_bits(), 0x7ff8_dead_beef_0001);
    assert_eq!(back.to_stored(), bytes);
}

#[test]
fn frames_without_rows_or_columns_round_trip() {
    let every = every_kind();
    let no_rows: Vec<Column> = every
        .columns()
        .iter()
        .map(|c| {
            let data = match &c.data {
                ColumnData::Numerical(_) => ColumnData::Numerical(vec![]),
                ColumnData::Categorical { levels, .. } => ColumnData::Categorical {
                    levels: levels.clone(),
                    codes: vec![],
                },
                ColumnData::Datetime { format, .. } => ColumnData::Datetime {
                    millis: vec![],
                    format: *format,
                },
            };
            Column {
                name: c.name.clone(),
                data,
            }
        })
        .collect();
    for frame in [Frame::new(no_rows).unwrap(), Frame::default()] {
        let back = Frame::from_stored(&frame.to_stored()).unwrap();
        assert_eq!(back, frame);
    }
}

#[test]
fn every_truncation_is_refused() {
    let bytes = every_kind().to_stored();
    for end in 0..bytes.len() {
        let err = Frame::from_stored(&bytes[..end]).unwrap_err();
        assert!(!err.is_empty());
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let err = Frame::from_stored(&longer).unwrap_err();
    assert!(err.contains("after its last column"), "{err}");
}

#[test]
fn flipped_bytes_are_refused_or_read_back_canonically() {
    let bytes = every_kind().to_stored();
    let mut refused = 0;
    for i in 0..bytes.len() {
        for mask in [0x01, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[i] ^= mask;
            match Frame::from_stored(&bad) {
                // What reads is exactly what the bytes say: it writes the same bytes.
                Ok(frame) => assert_eq!(frame.to_stored(), bad, "byte {i} ^ {mask:#x}"),
                Err(_) => refused += 1,
            }
        }
    }
    // Every flip in the header is refused.
    for i in 0..24 {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        assert!(Frame::from_stored(&bad).is_err(), "header byte {i}");
    }
    assert!(refused > bytes.len(), "{refused} flips refused");
}

/// The stored bytes of a one-column frame whose column bytes are `column`.
fn one_column(rows: u64, column: &[u8]) -> Vec<u8> {
    let mut bytes = b"TLFRAME\0".to_vec();
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&rows.to_le_bytes());
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes());
    bytes.push(b'a');
    bytes.extend_from_slice(column);
    bytes
}

#[test]
fn malformed_frames_are_refused_in_words() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"PK\x03\x04 a zip file".to_vec(), "not a stored frame"),
        (
            [&b"TLFRAME\0"[..], &2u32.to_le_bytes()].concat(),
            "version 2",
        ),
        // A code past the one level.
        (
            one_column(
                1,
                &[
                    &[1u8][..],
                    &1u64.to_le_bytes(),
                    b"\x00\x00\x00\x00\x00\x00\x00\x00",
                    &1u32.to_le_bytes(),
                ]
                .concat(),
            ),
            "code 1 but only 1 levels",
        ),
        // An unknown column type.
        (one_column(0, &[9]), "unknown type tag 9"),
        // A billion billion rows of numbers in a few bytes.
        (one_column(u64::MAX / 2, &[0, 1, 2, 3]), "cut short"),
        (one_column(u64::MAX, &[0]), "cut short"),
        // A level count far beyond the bytes.
        (
            one_column(0, &[&[1u8][..], &u64::MAX.to_le_bytes()].concat()),
            "cut short",
        ),
        // A missing moment with a value, and a presence flag of 2.
        (
            one_column(
                1,
                &[
                    &[2u8][..],
                    &datetime_format()[..],
                    &[0],
                    &5i64.to_le_bytes(),
                ]
                .concat(),
            ),
            "moment under a missing one",
        ),
        (
            one_column(
                1,
                &[
                    &[2u8][..],
                    &datetime_format()[..],
                    &[2],
                    &5i64.to_le_bytes(),
                ]
                .concat(),
            ),
            "presence flag 2",
        ),
        // Rows without any column to hold them.
        (
            [
                &b"TLFRAME\0"[..],
                &1u32.to_le_bytes(),
                &3u64.to_le_bytes(),
                &0u32.to_le_bytes(),
            ]
            .concat(),
            "no column",
        ),
    ];
    for (bytes, expected) in cases {
        let err = Frame::from_stored(&bytes).unwrap_err();
        assert!(err.contains(expected), "{err:?} should say {expected:?}");
    }
}

/// The stored `YYYY-MM-DD` format.
fn datetime_format() -> Vec<u8> {
    [
        &u32::from('-').to_le_bytes()[..],
        &u32::from(' ').to_le_bytes(),
        &[0, 0, 0],
    ]
    .concat()
}

#[test]
fn names_are_checked_as_frame_new_checks_them() {
    let twice = Frame::new(vec![Column::numerical("a", vec![1.0])]).unwrap();
    let mut bytes = twice.to_stored();
    // The column count 1 -> 2, and the column again.
    bytes[20] = 2;
    bytes.extend_from_slice(&bytes.clone()[24..]);
    let err = Frame::from_stored(&bytes).unwrap_err();
    assert!(err.contains("duplicate column name 'a'"), "{err}");
    let mut bad_utf8 = twice.to_stored();
    bad_utf8[32] = 0xff;
    let err = Frame::from_stored(&bad_utf8).unwrap_err();
    assert!(err.contains("not UTF-8"), "{err}");
    let mut bad_char = one_column(0, &[2]);
    bad_char.extend_from_slice(&0xd800u32.to_le_bytes());
    bad_char.extend_from_slice(&[0; 7]);
    let err = Frame::from_stored(&bad_char).unwrap_err();
    assert!(err.contains("not a character"), "{err}");
}

/// A million rows by twenty columns (numbers, categories, moments) round trip; run with
/// `--ignored --nocapture` for the timings.
#[test]
#[ignore = "large: 200 MB; prints the encode and decode times"]
fn a_million_rows_by_twenty_columns_round_trip() {
    let rows = 1_000_000;
    let mut columns = Vec::new();
    for c in 0..20 {
        let name = format!("col{c}");
        let data = match c % 4 {
            0 | 1 => ColumnData::Numerical((0..rows).map(|r| (r * c) as f64 / 7.0).collect()),
            2 => ColumnData::Categorical {
                levels: (0..100).map(|l| format!("level {l}")).collect(),
                codes: (0..rows)
                    .map(|r| (r % 11 != 0).then_some((r % 100) as u32))
                    .collect(),
            },
            _ => ColumnData::Datetime {
                millis: (0..rows)
                    .map(|r| (r % 13 != 0).then_some(r as i64 * 1000))
                    .collect(),
                format: parse_datetime("2020-01-01 00:00:00").unwrap().1,
            },
        };
        columns.push(Column { name, data });
    }
    let frame = Frame::new(columns).unwrap();
    let start = std::time::Instant::now();
    let bytes = frame.to_stored();
    let encoded = start.elapsed();
    let start = std::time::Instant::now();
    let back = Frame::from_stored(&bytes).unwrap();
    let decoded = start.elapsed();
    let start = std::time::Instant::now();
    let copy = bytes.clone();
    let copied = start.elapsed();
    println!(
        "1M x 20: {} MB, encode {encoded:?}, decode {decoded:?} (a plain copy of the bytes: \
         {copied:?})",
        copy.len() / 1_000_000
    );
    assert!(back == frame);
}
