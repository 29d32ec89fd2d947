//! Behaviour of [`parse_csv`] as an uploader sees it.

use super::super::frame::{ColumnData, DataType};
use super::*;

fn parse(input: &str) -> Result<Frame, CsvError> {
    parse_csv(input.as_bytes(), &CsvLimits::default())
}

fn levels(frame: &Frame, name: &str) -> (Vec<String>, Vec<Option<u32>>) {
    match &frame.column(name).unwrap().data {
        ColumnData::Categorical { levels, codes } => (levels.clone(), codes.clone()),
        _ => panic!("{name} is not categorical"),
    }
}

fn numbers(frame: &Frame, name: &str) -> Vec<f64> {
    match &frame.column(name).unwrap().data {
        ColumnData::Numerical(v) => v.clone(),
        _ => panic!("{name} is not numerical"),
    }
}

#[test]
fn quoted_fields_keep_commas_newlines_and_quotes() {
    let f = parse("id,text\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n4,\" pad \"\n")
        .unwrap();
    assert_eq!(f.rows(), 4);
    let (lv, codes) = levels(&f, "text");
    let texts: Vec<&str> = codes
        .iter()
        .map(|c| lv[c.unwrap() as usize].as_str())
        .collect();
    assert_eq!(texts, ["a, b", "say \"hi\"", "two\nlines", " pad "]);
}

#[test]
fn crlf_and_lf_give_the_same_frame() {
    let lf = parse("a,b\n1,x\n2,y\n").unwrap();
    let crlf = parse("a,b\r\n1,x\r\n2,y\r\n").unwrap();
    assert_eq!(lf, crlf);
    assert_eq!(parse("a,b\r\n1,x").unwrap().rows(), 1);
}

#[test]
fn infers_types_and_missing_values() {
    let f = parse("n,c,m\n1, x ,\nNA,y,\n-2.5e3,?,\n\n,null,\n").unwrap();
    assert_eq!(f.rows(), 4);
    assert_eq!(f.column("n").unwrap().data_type(), DataType::Numerical);
    assert_eq!(f.column("c").unwrap().data_type().as_str(), "categorical");
    let n = numbers(&f, "n");
    assert_eq!((n[0], n[2]), (1.0, -2500.0));
    assert!(n[1].is_nan() && n[3].is_nan());
    assert_eq!(
        levels(&f, "c"),
        (
            vec!["x".into(), "y".into()],
            vec![Some(0), Some(1), None, None]
        )
    );
    assert!(numbers(&f, "m").iter().all(|x| x.is_nan()));
}

#[test]
fn header_only_gives_empty_frame_and_bom_is_dropped() {
    let f = parse("\u{feff}a,b\n").unwrap();
    assert_eq!(f.rows(), 0);
    assert_eq!(f.column_names().collect::<Vec<_>>(), ["a", "b"]);
}

#[test]
fn rejects_empty_input_and_missing_header() {
    assert!(matches!(parse(""), Err(CsvError::Empty)));
    assert!(matches!(parse("\n\r\n"), Err(CsvError::NoHeader)));
}

#[test]
fn rejects_bad_column_names() {
    assert!(matches!(
        parse("a,,c\n1,2,3\n"),
        Err(CsvError::EmptyColumnName { column: 2 })
    ));
    let err = parse("a,b,a\n").unwrap_err();
    assert_eq!(err.to_string(), "the header names column 'a' twice");
}

#[test]
fn rejects_ragged_rows_with_line_number() {
    let err = parse("a,b\n1,2\n3\n").unwrap_err();
    assert!(matches!(
        err,
        CsvError::RaggedRow {
            line: 3,
            expected: 2,
            found: 1,
            more: false
        }
    ));
    assert_eq!(
        err.to_string(),
        "line 3: expected 2 fields like the header, found 1"
    );
    let err = parse("a,b\n1,2,3,4\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2: expected 2 fields like the header, found more than 2"
    );
}

#[test]
fn rejects_unterminated_quote_and_text_after_quote() {
    let err = parse("a,b\n1,2\n3,\"open\n\n").unwrap_err();
    assert!(
        matches!(err, CsvError::UnterminatedQuote { line: 3 }),
        "{err}"
    );
    assert!(matches!(
        parse("a\n\"x\"y\n"),
        Err(CsvError::TextAfterQuote { line: 2 })
    ));
}

#[test]
fn rejects_invalid_utf8() {
    let bytes: &[u8] = b"a,b\n1,\xff\xfe\n";
    let err = parse_csv(bytes, &CsvLimits::default()).unwrap_err();
    assert!(matches!(err, CsvError::InvalidUtf8 { line: 2 }));
    assert!(err.to_string().contains("UTF-8"));
}

#[test]
fn enforces_limits() {
    let limits = CsvLimits {
        max_rows: 2,
        max_columns: 2,
        max_field_bytes: 4,
    };
    let run = |s: &str| parse_csv(s.as_bytes(), &limits);
    assert!(run("a,b\n1,2\n3,4\n").is_ok());
    assert!(matches!(
        run("a,b\n1,2\n3,4\n5,6\n"),
        Err(CsvError::TooManyRows { limit: 2 })
    ));
    assert!(matches!(
        run("a,b,c\n"),
        Err(CsvError::TooManyColumns { limit: 2 })
    ));
    assert!(matches!(
        run("a,b\n1,12345\n"),
        Err(CsvError::FieldTooLong { line: 2, limit: 4 })
    ));
}

#[test]
fn io_errors_are_reported() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = parse_csv(std::io::BufReader::new(Broken), &CsvLimits::default()).unwrap_err();
    assert!(matches!(err, CsvError::Io(_)));
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn write_then_parse_round_trips() {
    let input = "x,label,note\n1.5,a,\"x, y\"\n,b,\"q\"\"uote\"\n-3,\" sp\",\"NA\"\n1e-9,,line\n";
    let frame = parse(input).unwrap();
    let mut out = Vec::new();
    frame.write_csv(&mut out).unwrap();
    let again = parse_csv(out.as_slice(), &CsvLimits::default()).unwrap();
    assert_eq!(format!("{frame:?}"), format!("{again:?}"));
    assert_eq!(levels(&again, "note").0, ["NA", "line", "q\"uote", "x, y"]);
}

#[test]
fn streams_through_a_small_buffer() {
    let text = "a,b\n\"multi\nline\",2\n3,4\n";
    let reader = std::io::BufReader::with_capacity(3, text.as_bytes());
    let f = parse_csv(reader, &CsvLimits::default()).unwrap();
    assert_eq!(f, parse(text).unwrap());
}

#[test]
fn error_type_stays_small() {
    assert!(std::mem::size_of::<CsvError>() <= 40);
}

#[test]
fn a_non_finite_number_among_numbers_names_its_column_and_line() {
    let err = parse("x,y\n1,2.5\n2,Infinity\n3,4\n").unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(&err, CsvError::NonFinite(at) if at.0 == "y" && at.1 == 3),
        "{message}"
    );
    assert!(
        message.contains("'y'") && message.contains("line 3"),
        "{message}"
    );
    let text = parse("c\nabc\ninf\n").unwrap();
    assert_eq!(text.column("c").unwrap().data_type(), DataType::Categorical);
}
