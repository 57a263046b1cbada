//! A small musical-instrument catalogue for the unit tests.

use recsys_plugin_api::{CsrView, ItemText, ItemTextTable, TrainData};

/// Items 0-3 and 7 are guitar things (2 and 3 are strings), 4-6 drum things; 7 is a guitar
/// nobody has bought yet (cold start); 8 has no text at all.
pub const ITEMS: [[&str; 4]; 9] = [
    [
        "Fender Stratocaster Electric Guitar",
        "Fender",
        "Musical Instruments\nGuitars\nElectric Guitars",
        "Solid body electric guitar with a maple neck and three single-coil pickups.",
    ],
    [
        "Gibson Les Paul Electric Guitar",
        "Gibson",
        "Musical Instruments\nGuitars\nElectric Guitars",
        "Mahogany body electric guitar with humbucker pickups.",
    ],
    [
        "Fender Nickel Guitar Strings",
        "Fender",
        "Musical Instruments\nGuitars\nAccessories\nStrings",
        "Light gauge nickel wound strings for electric guitar.",
    ],
    [
        "Ernie Ball Regular Slinky Guitar Strings",
        "Ernie Ball",
        "Musical Instruments\nGuitars\nAccessories\nStrings",
        "Nickel wound electric guitar strings, <b>regular</b> gauge &amp; long life.",
    ],
    [
        "Pearl Export Drum Kit",
        "Pearl",
        "Musical Instruments\nDrums & Percussion\nDrum Sets",
        "Five piece acoustic drum kit with cymbals and hardware.",
    ],
    [
        "Vic Firth Hickory Drum Sticks",
        "Vic Firth",
        "Musical Instruments\nDrums & Percussion\nDrum Sticks",
        "Hickory drum sticks with a wood tip.",
    ],
    [
        "Zildjian Maple Drum Sticks",
        "Zildjian",
        "Musical Instruments\nDrums & Percussion\nDrum Sticks",
        "Maple drum sticks for rock drummers.",
    ],
    [
        "Squier Telecaster Electric Guitar",
        "Squier",
        "Musical Instruments\nGuitars\nElectric Guitars",
        "Beginner electric guitar with a maple neck and single-coil pickups.",
    ],
    ["", "", "", ""],
];

/// The guitar items.
pub const GUITAR_ITEMS: [u32; 5] = [0, 1, 2, 3, 7];
/// The drum items.
pub const DRUM_ITEMS: [u32; 3] = [4, 5, 6];
/// The item without interactions.
pub const COLD_START: u32 = 7;

/// Users' items (sorted): guitar players, drummers and one of each.
const USERS: [&[u32]; 6] = [
    &[0, 2],
    &[1, 2, 3],
    &[4, 5],
    &[4, 5, 6],
    &[0, 1, 3],
    &[2, 3, 5],
];

/// Owned arrays for a [`TrainData`].
#[derive(Debug)]
pub struct Fixture {
    indptr: Vec<u64>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl Fixture {
    /// The catalogue's interactions.
    pub fn new() -> Fixture {
        let mut indptr = vec![0u64];
        let mut indices = Vec::new();
        for user in USERS {
            indices.extend_from_slice(user);
            indptr.push(indices.len() as u64);
        }
        let values = vec![1.0; indices.len()];
        Fixture {
            indptr,
            indices,
            values,
        }
    }

    /// The interactions alone.
    pub fn csr(&self) -> CsrView<'_> {
        CsrView::new(
            USERS.len(),
            ITEMS.len(),
            &self.indptr,
            &self.indices,
            &self.values,
        )
        .unwrap()
    }

    /// Interactions and item text.
    pub fn data(&self) -> TrainData<'_> {
        let table =
            ItemTextTable::new(ITEMS.iter().map(|[title, brand, categories, description]| {
                ItemText {
                    title,
                    brand,
                    categories,
                    description,
                }
            }));
        TrainData::new(self.csr()).with_item_text(table).unwrap()
    }
}
