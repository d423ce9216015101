//! Borrowed views of the License Manager's composite map keys, so a lookup on the checkout path
//! needs no owned `String` key. Each view orders, compares and hashes exactly as the owned tuple
//! does (`str` and `String` agree on all three), which is what `Borrow` requires.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use super::types::Unit;

/// A (Name, Unit) key of `LicenseRecord::in_use`.
pub trait InUseKey {
    fn parts(&self) -> (&str, Unit);
}

impl InUseKey for (String, Unit) {
    fn parts(&self) -> (&str, Unit) {
        (&self.0, self.1)
    }
}

impl InUseKey for (&str, Unit) {
    fn parts(&self) -> (&str, Unit) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn InUseKey + 'a> for (String, Unit) {
    fn borrow(&self) -> &(dyn InUseKey + 'a) {
        self
    }
}

impl PartialEq for dyn InUseKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn InUseKey + '_ {}

impl PartialOrd for dyn InUseKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn InUseKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

/// `in_use`'s key for (name, unit), borrowed.
pub fn in_use_key<'a>(key: &'a (&'a str, Unit)) -> &'a (dyn InUseKey + 'a) {
    key
}

/// A (KeyFingerprint, ProductSKU) key of `LicenseManager::by_product`.
pub trait ProductKey {
    fn parts(&self) -> (&str, &str);
}

impl ProductKey for (String, String) {
    fn parts(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

impl ProductKey for (&str, &str) {
    fn parts(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn ProductKey + 'a> for (String, String) {
    fn borrow(&self) -> &(dyn ProductKey + 'a) {
        self
    }
}

impl PartialEq for dyn ProductKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn ProductKey + '_ {}

impl Hash for dyn ProductKey + '_ {
    // Field by field, as the derived tuple impl hashes (String, String).
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (fingerprint, sku) = self.parts();
        fingerprint.hash(state);
        sku.hash(state);
    }
}

/// `by_product`'s key for (fingerprint, sku), borrowed.
pub fn product_key<'a>(key: &'a (&'a str, &'a str)) -> &'a (dyn ProductKey + 'a) {
    key
}
