//! One segment file being written: creates it with its init segment, appends
//! fragments, syncs the data at each flush and then tells the index, and closes it.
//!
//! Order for crash safety: the file and its init are synced before the index is
//! sent its row; fragments are appended as they come, and every flush syncs the
//! data before the index hears of it. The index takes the changes on its own
//! thread ([`Indexer`]), so a busy index never holds up the file. Recovery
//! re-derives everything from the file.

use super::indexer::{Change, Indexer, Key};
use super::layout;
use super::segmenter::FragmentOut;
use crate::config::StreamKind;
use crate::footage::{Footage, Sink};
use crate::ingest::frame::{AudioParams, VideoParams};
use crate::media::fmp4::{AudioTrack, init_segment};
use crate::store::{AudioTrackInfo, FragIndex, NewSegment, Progress, SegmentClass, SegmentState};
use std::fs::OpenOptions;
use std::io;
use std::path::PathBuf;

/// A segment file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

impl WriteError {
    /// The disk (or the user's quota on it) is full.
    pub fn is_disk_full(&self) -> bool {
        self.source.kind() == io::ErrorKind::StorageFull
            || self.source.raw_os_error() == Some(libc::EDQUOT)
    }
}

/// Where a stream's segments go: its directory and its index row.
#[derive(Clone, Copy)]
pub struct Destination<'a> {
    pub footage: &'a Footage,
    pub stream_id: i64,
    pub camera: &'a str,
    pub stream: StreamKind,
    pub class: SegmentClass,
}

pub struct SegmentFile {
    file: Sink,
    path: PathBuf,
    key: Key,
    progress: Progress,
    synced: bool,
}

impl SegmentFile {
    pub fn create(
        dest: Destination<'_>,
        index: &mut Indexer,
        start_us: i64,
        params: &VideoParams,
        audio: Option<&AudioParams>,
    ) -> Result<SegmentFile, WriteError> {
        let mut n = 0;
        let data_dir = dest.footage.dir();
        let (rel, path, file) = loop {
            let rel = layout::segment_path(dest.camera, dest.stream, start_us, n);
            let path = layout::absolute(data_dir, &rel);
            let io_err = |source| WriteError {
                path: path.clone(),
                source,
            };
            if let Some(dir) = path.parent() {
                super::dir_sync::create_dirs(data_dir, dir).map_err(io_err)?;
            }
            let opened = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path);
            match opened {
                Ok(f) => break (rel, path, f),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(io_err(e)),
            }
        };
        let audio_entry = audio.map(|a| [a.sample_entry.as_slice()]);
        let audio_track = audio.zip(audio_entry.as_ref()).map(|(a, e)| AudioTrack {
            entries: e,
            timescale: a.clock_rate,
        });
        let init = init_segment(
            &[&params.sample_entry],
            params.width,
            params.height,
            audio_track,
        );
        let io_err = |source| WriteError {
            path: path.clone(),
            source,
        };
        // The index names the file only once its data and its name are on disk.
        let written = dest.footage.writer(file).and_then(|mut file| {
            file.write_all(&init)?;
            file.sync_data()?;
            super::dir_sync::sync_parent(&path)?;
            Ok(file)
        });
        let file = match written {
            Ok(f) => f,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(io_err(e));
            }
        };
        let key = index.new_key();
        index.send(Change::Insert(
            key,
            NewSegment {
                stream_id: dest.stream_id,
                start_us,
                path: rel,
                codec: params.codec.clone(),
                width: params.width,
                height: params.height,
                sample_entry: params.sample_entry.clone(),
                audio: audio.map(|a| AudioTrackInfo {
                    sample_entry: a.sample_entry.clone(),
                    timescale: a.clock_rate,
                }),
                bytes: init.len() as u64,
                class: dest.class,
                key_id: file.key_id(),
            },
        ));
        Ok(SegmentFile {
            file,
            path,
            key,
            progress: Progress {
                bytes: init.len() as u64,
                ..Progress::default()
            },
            synced: true,
        })
    }

    /// Appends a fragment. On error the file is cut back to its last whole fragment.
    pub fn append(&mut self, frag: &FragmentOut) -> Result<(), WriteError> {
        let parts: Vec<&[u8]> = std::iter::once(&frag.header[..])
            .chain(frag.data.iter().map(|d| &d[..]))
            .collect();
        if let Err(source) = self.file.write_all_parts(&parts) {
            let _ = self.file.cut_back(self.progress.bytes);
            return Err(WriteError {
                path: self.path.clone(),
                source,
            });
        }
        // The segmenter's length cap keeps both far inside the index's fields.
        let too_long = |what: &str| WriteError {
            path: self.path.clone(),
            source: io::Error::other(format!("{what} too large for the index")),
        };
        self.progress.fragments.push(FragIndex {
            start_90k: u32::try_from(frag.start_90k).map_err(|_| too_long("fragment start"))?,
            frames: u16::try_from(frag.frames).map_err(|_| too_long("fragment frame count"))?,
            key: frag.starts_with_key,
            offset: self.progress.bytes,
        });
        self.progress.bytes += frag.byte_len();
        self.progress.duration_90k += frag.duration_90k;
        self.progress.frames += u64::from(frag.frames);
        self.synced = false;
        Ok(())
    }

    /// Syncs the data written so far and tells the index.
    pub fn flush(&mut self, index: &Indexer) -> Result<(), WriteError> {
        if self.synced {
            return Ok(());
        }
        self.sync_and_index(index, SegmentState::Open)?;
        self.synced = true;
        Ok(())
    }

    /// Syncs and marks the segment complete; may be retried after an error. A
    /// segment that got no video (its first fragment failed) is removed, row first.
    pub fn close(&mut self, index: &Indexer) -> Result<(), WriteError> {
        if self.progress.fragments.is_empty() {
            index.send(Change::Discard(self.key, self.path.clone()));
            return Ok(());
        }
        self.sync_and_index(index, SegmentState::Complete)
    }

    fn sync_and_index(&mut self, index: &Indexer, state: SegmentState) -> Result<(), WriteError> {
        let synced = match state {
            SegmentState::Complete => self.file.finish(),
            _ => self.file.sync_data(),
        };
        synced.map_err(|source| WriteError {
            path: self.path.clone(),
            source,
        })?;
        index.send(Change::Progress(self.key, self.progress.clone(), state));
        Ok(())
    }
}
