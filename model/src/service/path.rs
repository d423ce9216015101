//! Where a value sits in a request, as AWS's validation messages name it (`entitlements.1.name`),
//! kept as links to the parent and written out only when a message needs it: most requests are
//! valid, and a path rendered for every member was most of the cost of decoding one.

use super::lower_camel;

/// A place in a request body, borrowed from the walk that reached it.
#[derive(Clone, Copy)]
pub(super) enum Path<'a> {
    /// The body itself.
    Root,
    /// A structure's member, by its modelled name (written lowerCamel).
    Member(&'a Path<'a>, &'a str),
    /// A list's item, by its 0-based index (written 1-based).
    Item(&'a Path<'a>, usize),
    /// A map's entry, by its key (written as it is).
    Key(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    /// The path as AWS writes it: members joined by `.`, list items 1-based, map keys as given;
    /// empty for the body.
    pub(super) fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Member(parent, name) => {
                let parent = parent.render();
                if parent.is_empty() {
                    lower_camel(name)
                } else {
                    format!("{parent}.{}", lower_camel(name))
                }
            }
            Path::Item(parent, i) => format!("{}.{}", parent.render(), i + 1),
            Path::Key(parent, key) => format!("{}.{key}", parent.render()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_written_as_aws_validation_messages_name_them() {
        // SPEC 1.2: validation paths use lowerCamel member names, 1-based list items.
        let body = Path::Root;
        assert_eq!(body.render(), "");
        let ents = Path::Member(&body, "Entitlements");
        let first = Path::Item(&ents, 0);
        assert_eq!(Path::Member(&first, "Name").render(), "entitlements.1.name");
        let tags = Path::Member(&body, "Tags");
        assert_eq!(Path::Key(&tags, "Team").render(), "tags.Team");
        assert_eq!(Path::Member(&body, "ProductSKU").render(), "productSKU");
    }
}
