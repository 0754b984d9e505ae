//! Stream URL recipes for common camera brands (pure data): the RTSP port and
//! paths of the main and sub streams each maker documents, and what the owner
//! must know besides, so the camera form can fill the URL from a host name.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Recipe {
    pub brand: &'static str,
    pub port: u16,
    /// Path (and query) of the main stream.
    pub main: &'static str,
    /// Path of the sub stream, when the camera has one.
    pub sub: Option<&'static str>,
    /// What else the owner needs to know.
    pub note: &'static str,
}

pub const RECIPES: &[Recipe] = &[
    Recipe {
        brand: "Reolink",
        port: 554,
        main: "/h264Preview_01_main",
        sub: Some("/h264Preview_01_sub"),
        note: "Turn on RTSP in the camera's network settings. Models that send H.265 use \
               /h265Preview_01_main.",
    },
    Recipe {
        brand: "Hikvision",
        port: 554,
        main: "/Streaming/Channels/101",
        sub: Some("/Streaming/Channels/102"),
        note: "Channel 2 of an NVR is 201 and 202.",
    },
    Recipe {
        brand: "Dahua",
        port: 554,
        main: "/cam/realmonitor?channel=1&subtype=0",
        sub: Some("/cam/realmonitor?channel=1&subtype=1"),
        note: "Channel 2 of an NVR is channel=2.",
    },
    Recipe {
        brand: "Amcrest",
        port: 554,
        main: "/cam/realmonitor?channel=1&subtype=0",
        sub: Some("/cam/realmonitor?channel=1&subtype=1"),
        note: "",
    },
    Recipe {
        brand: "TP-Link Tapo",
        port: 554,
        main: "/stream1",
        sub: Some("/stream2"),
        note: "Use the camera account made in the Tapo app (Advanced settings, Camera \
               account), not your TP-Link ID.",
    },
    Recipe {
        brand: "Axis",
        port: 554,
        main: "/axis-media/media.amp?videocodec=h264",
        sub: Some("/axis-media/media.amp?videocodec=h264&resolution=640x360"),
        note: "",
    },
    Recipe {
        brand: "Ubiquiti UniFi Protect",
        port: 7447,
        main: "/",
        sub: None,
        note: "Turn on RTSP for the camera in UniFi Protect, then put the stream's token \
               (the part after the port in the address Protect shows) at the end of the URL. \
               The host is the Protect console's.",
    },
];

#[cfg(test)]
mod tests {
    use super::RECIPES;

    #[test]
    fn every_recipe_makes_a_url_the_config_accepts() {
        for r in RECIPES {
            for path in std::iter::once(r.main).chain(r.sub) {
                let url = format!("rtsp://192.168.1.20:{}{path}", r.port);
                let parsed = crate::config::camera_url(&url)
                    .unwrap_or_else(|e| panic!("{}: {url}: {e}", r.brand));
                assert_eq!(parsed.port(), Some(r.port));
            }
        }
    }

    #[test]
    fn the_camera_docs_list_every_recipe() {
        let docs = include_str!("../../docs/cameras.md");
        for r in RECIPES {
            let row = docs
                .lines()
                .find(|l| l.starts_with(&format!("| {} |", r.brand)))
                .unwrap_or_else(|| panic!("docs/cameras.md has no row for {}", r.brand));
            assert!(row.contains(&format!("| {} |", r.port)), "{row}");
            for path in std::iter::once(r.main).chain(r.sub) {
                assert!(
                    row.contains(&format!("`{path}`")),
                    "{}: {path} in {row}",
                    r.brand
                );
            }
        }
    }
}
