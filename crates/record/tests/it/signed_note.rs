//! The C2SP signed-note vector must come out byte for byte, both of its signatures must
//! verify, and every malformed shape the reference rejects must be rejected here too.

use hotline_identity::VerifierKey;
use hotline_record::note::{
    NoteError, NoteSigner, add_signature_lines, note_signatures_max, parse_note, sign_note, verify_note,
};

const SIGNER: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_LINE: &str =
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_LINE: &str =
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn key(text: &str) -> VerifierKey {
    VerifierKey::parse(text).expect("vector key parses")
}

/// The vector file in the repository states the same strings; check we copied them right.
#[test]
fn constants_match_the_vector_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/signed-note.md");
    let vector = std::fs::read_to_string(path).expect("vector file");
    for expected in [SIGNER, PETER, ENOCH, PETER_LINE.trim_end(), ENOCH_LINE.trim_end()] {
        assert!(vector.contains(expected), "{expected}");
    }
    for line in TEXT.lines() {
        assert!(vector.contains(line), "{line}");
    }
}

#[test]
fn signing_reproduces_the_vector_exactly() {
    let signer = NoteSigner::from_private_text(SIGNER).expect("signer key parses");
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.verifier().to_string(), PETER);
    let note = sign_note(TEXT, &signer).expect("signs");
    assert_eq!(note, format!("{TEXT}\n{PETER_LINE}"));
}

#[test]
fn both_vector_signatures_verify() {
    let note = format!("{TEXT}\n{PETER_LINE}{ENOCH_LINE}");
    let verified = verify_note(&note, &[key(PETER), key(ENOCH)]).expect("verifies");
    assert_eq!(verified.text, TEXT);
    assert_eq!(verified.verified.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["PeterNeumann", "EnochRoot"]);
    assert!(verified.unverified.is_empty());
    // With one known key the other signature is kept as unverified, not an error.
    let only_enoch = verify_note(&note, &[key(ENOCH)]).expect("verifies");
    assert_eq!(only_enoch.verified.len(), 1);
    assert_eq!(only_enoch.unverified.len(), 1);
    assert_eq!(only_enoch.unverified[0].to_line(), PETER_LINE);
    // With no known key the note is refused.
    let stranger = NoteSigner::new("stranger", &[1; 32]).expect("signer").verifier();
    assert_eq!(verify_note(&note, &[stranger]), Err(NoteError::NoKnownSignature));
}

#[test]
fn a_bad_signature_by_a_known_key_rejects_the_note() {
    let altered = format!("{}\n{PETER_LINE}", TEXT.replace("answer", "ANSWER"));
    assert!(matches!(verify_note(&altered, &[key(PETER)]), Err(NoteError::InvalidSignature { .. })));
    // A key with the right name but another key hash is a different, unknown key.
    let impostor = VerifierKey::new_note_signer("PeterNeumann", [5; 32]).expect("key");
    assert_eq!(verify_note(&format!("{TEXT}\n{PETER_LINE}"), &[impostor]), Err(NoteError::NoKnownSignature));
}

#[test]
fn malformed_notes_are_rejected() {
    let good = format!("{TEXT}\n{PETER_LINE}");
    let many = format!("{TEXT}\n{}", PETER_LINE.repeat(note_signatures_max + 1));
    let cases: Vec<(String, NoteError)> = vec![
        (format!("{TEXT}{PETER_LINE}"), NoteError::NoSignatureBlock),
        (good.trim_end_matches('\n').to_owned(), NoteError::SignatureWithoutFinalNewline),
        (good.replace("PeterNeumann", "Peter Neumann"), NoteError::BadSignatureEncoding { name: "Peter".into() }),
        (good.replace("PeterNeumann", "Peter+Neumann"), NoteError::BadKeyName { name: "Peter+Neumann".into() }),
        (
            good.replace("PeterNeumann", "Peter\u{a0}Neumann"),
            NoteError::BadKeyName { name: "Peter\u{a0}Neumann".into() },
        ),
        (many, NoteError::TooManySignatures { max: note_signatures_max }),
        (format!("{good}trailing text\n"), NoteError::NotASignatureLine { line: 5 }),
        (format!("{good}between\n{ENOCH_LINE}"), NoteError::NotASignatureLine { line: 5 }),
        (format!("no newline\n{PETER_LINE}"), NoteError::NoSignatureBlock),
        (PETER_LINE.to_owned(), NoteError::NoSignatureBlock),
        (format!("{TEXT}\n"), NoteError::NoSignatureBlock),
        (format!("{TEXT}\n- PeterNeumann AAAAAAAA\n"), NoteError::NotASignatureLine { line: 4 }),
        (format!("{TEXT}\n— PeterNeumann AAAA\n"), NoteError::BadSignatureEncoding { name: "PeterNeumann".into() }),
        (
            format!("{TEXT}\n— PeterNeumann not-base64\n"),
            NoteError::BadSignatureEncoding { name: "PeterNeumann".into() },
        ),
        (format!("{TEXT}\n— PeterNeumann\n"), NoteError::NotASignatureLine { line: 4 }),
        (format!("{TEXT}\n— PeterNeumann \n"), NoteError::BadSignatureEncoding { name: "PeterNeumann".into() }),
        (format!("tab\there\n\n{PETER_LINE}"), NoteError::ControlCharacter { offset: 3 }),
        (format!("{TEXT}\r\n{PETER_LINE}"), NoteError::ControlCharacter { offset: TEXT.len() }),
        (
            "x".repeat(hotline_record::note::note_bytes_max + 1),
            NoteError::TooLarge {
                bytes: hotline_record::note::note_bytes_max + 1,
                max: hotline_record::note::note_bytes_max,
            },
        ),
    ];
    for (note, expected) in cases {
        assert_eq!(parse_note(&note).map(|_| ()), Err(expected.clone()), "{note:?}");
        assert!(verify_note(&note, &[key(PETER)]).is_err(), "{note:?}");
    }
    // Exactly the limit is fine, and duplicates by a known key are verified once.
    let at_limit = format!("{TEXT}\n{}", PETER_LINE.repeat(note_signatures_max));
    assert_eq!(verify_note(&at_limit, &[key(PETER)]).map(|v| v.verified.len()), Ok(1));
}

#[test]
fn signing_refuses_text_the_format_cannot_carry() {
    let signer = NoteSigner::from_private_text(SIGNER).expect("signer");
    assert_eq!(sign_note("no final newline", &signer), Err(NoteError::TextWithoutFinalNewline));
    assert_eq!(sign_note("", &signer), Err(NoteError::TextWithoutFinalNewline));
    assert_eq!(sign_note("bell\u{7}\n", &signer), Err(NoteError::ControlCharacter { offset: 4 }));
    // Blank lines inside the text are allowed: the last blank line is the separator.
    let with_blank = sign_note("a\n\nb\n", &signer).expect("signs");
    assert_eq!(verify_note(&with_blank, &[key(PETER)]).map(|v| v.text), Ok("a\n\nb\n".to_owned()));
    assert!(NoteSigner::new("bad name", &[0; 32]).is_err());
    assert!(NoteSigner::from_private_text(&SIGNER.replace("c74f20a3", "c74f20a4")).is_err());
    assert!(NoteSigner::from_private_text(&SIGNER.replace("+AYEK", "+AoEK")).is_err());
    assert!(NoteSigner::from_private_text("PRIVATE+KEY+PeterNeumann+c74f20a3").is_err());
}

#[test]
fn signature_lines_can_be_added_to_a_signed_note() {
    let note = format!("{TEXT}\n{PETER_LINE}");
    assert_eq!(add_signature_lines(&note, ENOCH_LINE), Ok(format!("{note}{ENOCH_LINE}")));
    assert!(add_signature_lines(&note, "not a signature\n").is_err());
}
