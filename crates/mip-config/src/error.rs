//! Configuration errors and warnings, with the file and line they refer to.

use std::fmt;

/// A position in a configuration file (1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    /// Line number, from 1.
    pub line: usize,
    /// Column (characters, from 1), when known (TOML form).
    pub column: Option<usize>,
}

impl Loc {
    /// A line without column.
    #[must_use]
    pub fn line(line: usize) -> Loc {
        Loc { line, column: None }
    }

    /// The line and column of byte `offset` in `text`.
    #[must_use]
    pub fn of_offset(text: &str, offset: usize) -> Loc {
        LineIndex::new(text).loc(offset)
    }
}

/// Byte offsets to lines and columns, in O(log lines) per lookup.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of the start of each line.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub(crate) fn loc(&self, offset: usize) -> Loc {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        Loc {
            line,
            column: Some(self.text[start..offset].chars().count() + 1),
        }
    }
}

/// Why a configuration was refused: which file, which line, what, and how to fix it.
///
/// `Display` gives `file:line: message`, then `  hint: ...` on the next line, then any further
/// errors found in the same file, one per line in the same form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file name as given to the parser.
    pub file: String,
    /// Where, when the error belongs to one place (absent for e.g. an unreadable file).
    pub loc: Option<Loc>,
    /// What is wrong. Never contains a key.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub hint: Option<String>,
    /// Further errors in the same file (the parser keeps going after the first).
    pub further: Vec<ConfigError>,
}

impl ConfigError {
    /// An error at `loc`.
    #[must_use]
    pub fn new(file: &str, loc: Option<Loc>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_owned(),
            loc,
            message: message.into(),
            hint: None,
            further: Vec::new(),
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> ConfigError {
        self.hint = Some(hint.into());
        self
    }

    /// The line number, when there is one.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        self.loc.map(|l| l.line)
    }

    /// This error followed by the further ones, in order.
    pub fn all(&self) -> impl Iterator<Item = &ConfigError> {
        std::iter::once(self).chain(self.further.iter())
    }

    /// One error from a list (the first, carrying the rest). `None` for an empty list.
    pub(crate) fn from_list(mut errors: Vec<ConfigError>) -> Option<ConfigError> {
        if errors.is_empty() {
            return None;
        }
        errors.sort_by_key(|e| e.loc);
        let mut first = errors.remove(0);
        first.further = errors;
        Some(first)
    }

    fn fmt_one(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.loc {
            Some(Loc {
                line,
                column: Some(c),
            }) => write!(f, "{}:{line}:{c}: {}", self.file, self.message)?,
            Some(Loc { line, column: None }) => {
                write!(f, "{}:{line}: {}", self.file, self.message)?
            }
            None => write!(f, "{}: {}", self.file, self.message)?,
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_one(f)?;
        for e in &self.further {
            f.write_str("\n")?;
            e.fmt_one(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Something legal but probably not what the operator meant, or a security concern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The file name.
    pub file: String,
    /// Where, when it belongs to one place.
    pub loc: Option<Loc>,
    /// What.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(file: &str, loc: Option<Loc>, message: impl Into<String>) -> Warning {
        Warning {
            file: file.to_owned(),
            loc,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.loc {
            Some(Loc {
                line,
                column: Some(c),
            }) => write!(f, "{}:{line}:{c}: warning: {}", self.file, self.message),
            Some(Loc { line, column: None }) => {
                write!(f, "{}:{line}: warning: {}", self.file, self.message)
            }
            None => write!(f, "{}: warning: {}", self.file, self.message),
        }
    }
}
