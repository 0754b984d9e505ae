//! Opening a video file with FFmpeg (for `fake-camera --file` and `detect`): the
//! input and the index of its main video stream, with errors that name the file.

use anyhow::{Context, anyhow};
use ffmpeg_next as ff;
use std::path::Path;

pub fn open(path: &Path) -> anyhow::Result<(ff::format::context::Input, usize)> {
    ff::init().context("cannot initialise FFmpeg")?;
    ff::util::log::set_level(ff::util::log::Level::Error);
    let input =
        ff::format::input(path).with_context(|| format!("cannot open {}", path.display()))?;
    let index = input
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| anyhow!("{} has no video", path.display()))?
        .index();
    Ok((input, index))
}
