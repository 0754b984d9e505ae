//! The `hearth` command line: run, demo, check, verify, export, fake-camera.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hearth::config::Config;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio::sync::watch;

#[derive(Parser)]
#[command(name = "hearth", version, about = "Self-hosted network video recorder")]
struct Cli {
    /// Log lines as text, or as one JSON object each (for a log collector).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "HEARTH_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Record every configured camera until SIGINT or SIGTERM.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Make the configured data directory (once, for a new installation): its
    /// identity file and its index. Hearth records only into a directory made so.
    Init {
        #[arg(long)]
        config: PathBuf,
    },
    /// How the Hearth running on this config is: cameras, streams, switches
    /// (asked through the socket in its data directory).
    Status {
        #[arg(long)]
        config: PathBuf,
        /// The answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate a config file without starting.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Check the index against the files on disk; exit non-zero on any inconsistency.
    Verify {
        #[arg(long)]
        config: PathBuf,
        /// Repair what start-up would repair.
        #[arg(long)]
        repair: bool,
    },
    /// Write one MP4 of a time range, stitched across segments, without decoding.
    Export {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        camera: String,
        /// `main` or `sub`.
        #[arg(long, default_value = "main")]
        stream: String,
        /// RFC 3339 time, e.g. 2026-11-28T21:00:00Z.
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Append a manifest signed with this installation's key (camera, range,
        /// the hashes of the video and of the segment files, the audit entry):
        /// the MP4 still plays anywhere, and `hearth verify-export` checks it.
        #[arg(long)]
        bundle: bool,
    },
    /// Check an export bundle offline: its signature, and that neither the video
    /// nor the manifest changed since it was signed.
    VerifyExport {
        file: PathBuf,
        /// The installation's public key (shown on its System page): the bundle
        /// must be signed by it.
        #[arg(long)]
        key: Option<String>,
    },
    /// Serve simulated cameras over RTSP (H.264 on /main and /sub).
    FakeCamera {
        #[arg(long, default_value = "127.0.0.1:8554")]
        listen: String,
        /// Replay this MP4 (H.264) in a loop instead of the synthetic scene.
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        password: Option<String>,
        /// The authentication scheme demanded with --user and --password.
        #[arg(long, value_enum, default_value = "digest")]
        auth: hearth::fakecam::AuthScheme,
        /// How fast the camera's clock runs against real time (1.03: 3 % fast),
        /// as a cheap camera's crystal would.
        #[arg(long, default_value_t = 1.0)]
        clock: f64,
        /// Cut each session this many seconds after it starts playing, as a
        /// flapping camera does.
        #[arg(long)]
        drop_after: Option<f64>,
    },
    /// Run the motion detector over a video file; prints JSON events.
    Detect {
        #[arg(long)]
        input: PathBuf,
        /// Use this config's motion settings of --camera.
        #[arg(long, requires = "camera")]
        config: Option<PathBuf>,
        #[arg(long, requires = "config")]
        camera: Option<String>,
        /// Analysis rate (pictures per second; default 5 or the camera's).
        #[arg(long)]
        fps: Option<f32>,
        /// 0 (only big, clear changes) to 1 (the faintest; default 0.5 or the camera's).
        #[arg(long)]
        sensitivity: Option<f32>,
        /// Add every analysed frame's score.
        #[arg(long)]
        frames: bool,
    },
    /// Manage users: add, passwd, list, remove.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// The audit log: verify its hash chain, list entries.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// The master key that seals footage at rest.
    Key {
        #[command(subcommand)]
        cmd: KeyCmd,
    },
    /// Record simulated cameras into a throwaway data directory.
    Demo {
        #[arg(long, default_value_t = 2)]
        cameras: usize,
        /// Keep recordings here instead of a temporary directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Where the web interface listens (loopback only by default).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
}

/// A user's role and cameras.
#[derive(clap::Args)]
struct Grant {
    #[arg(long, value_parser = ["admin", "viewer"])]
    role: String,
    /// Cameras a viewer may watch, comma-separated (none when left out).
    #[arg(long, value_delimiter = ',')]
    cameras: Vec<String>,
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user; the password is read from stdin (prompted for on a terminal).
    Add {
        name: String,
        #[command(flatten)]
        grant: Grant,
        #[arg(long)]
        config: PathBuf,
    },
    /// Change a user's password (ends the user's sessions).
    Passwd {
        name: String,
        #[arg(long)]
        config: PathBuf,
    },
    /// Change a user's role and cameras (ends the user's sessions).
    Edit {
        name: String,
        #[command(flatten)]
        grant: Grant,
        #[arg(long)]
        config: PathBuf,
    },
    /// List users, roles and cameras.
    List {
        #[arg(long)]
        config: PathBuf,
    },
    /// Remove a user (ends the user's sessions).
    Remove {
        name: String,
        #[arg(long)]
        config: PathBuf,
    },
    /// Turn off a user's second factor (a lost phone); ends the user's sessions.
    ResetTotp {
        name: String,
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Write a new random master key to a file (mode 0600; never over an existing file).
    Generate {
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// Re-wrap every data key under a new master key (from `key generate`),
    /// rewriting no footage. Hearth must be stopped.
    Rotate {
        #[arg(long)]
        config: PathBuf,
        /// The new key file.
        #[arg(long)]
        new: PathBuf,
    },
    /// Seal the footage recorded before encryption was turned on (segments,
    /// event pictures, exports). Hearth must be stopped.
    EncryptExisting {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the hash chain; exits non-zero if an entry was edited or removed.
    Verify {
        #[arg(long)]
        config: PathBuf,
        /// A checkpoint from the system log (`ID:HASH`, as in the line "audit
        /// checkpoint ID:HASH"): the log must still hold that entry unchanged.
        #[arg(long)]
        checkpoint: Vec<String>,
    },
    /// Print entries, oldest first.
    List {
        #[arg(long)]
        config: PathBuf,
        /// Only this user's entries.
        #[arg(long)]
        user: Option<String>,
        /// At most this many (the newest).
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
}

/// Exit code for a bad config file.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,retina=warn".into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => log
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => log.json().flatten_event(true).init(),
    }
    hearth::security::file_modes::private_umask();
    let res = match cli.cmd {
        Cmd::Status { config, json } => match Config::load(&config) {
            Ok(c) => hearth::status_cmd::status(&c, json),
            Err(e) => return config_error(e),
        },
        Cmd::Check { config } => match Config::load(&config) {
            Ok(c) => {
                println!("{}: OK, {} cameras", config.display(), c.cameras.len());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => return config_error(e),
        },
        Cmd::Init { config } => match Config::load(&config) {
            Ok(c) => init(&c),
            Err(e) => return config_error(e),
        },
        Cmd::Run { config } => match Config::load(&config) {
            Ok(c) => runtime().and_then(|rt| rt.block_on(run(&config, c))),
            Err(e) => return config_error(e),
        },
        Cmd::Verify { config, repair } => match Config::load(&config) {
            Ok(c) => verify(&c, repair),
            Err(e) => return config_error(e),
        },
        Cmd::Export {
            config,
            camera,
            stream,
            from,
            to,
            output,
            bundle,
        } => match Config::load(&config) {
            Ok(c) => export(&c, &camera, &stream, (&from, &to), &output, bundle),
            Err(e) => return config_error(e),
        },
        Cmd::VerifyExport { file, key } => verify_export(&file, key.as_deref()),
        Cmd::FakeCamera {
            listen,
            file,
            user,
            password,
            auth,
            clock,
            drop_after,
        } => {
            let behaviour = hearth::fakecam::Behaviour {
                clock,
                drop_after: drop_after
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map(std::time::Duration::from_secs_f64),
            };
            runtime().and_then(|rt| {
                rt.block_on(fake_camera(listen, file, user, password, auth, behaviour))
            })
        }
        Cmd::Detect {
            input,
            config,
            camera,
            fps,
            sensitivity,
            frames,
        } => {
            let base = match (config, camera) {
                (Some(path), Some(name)) => match Config::load(&path) {
                    Ok(c) => match c.camera(&name) {
                        Some(cam) => cam.motion.detector.clone(),
                        None => {
                            eprintln!("hearth: no camera named {name:?} in {}", path.display());
                            return ExitCode::from(EXIT_CONFIG);
                        }
                    },
                    Err(e) => return config_error(e),
                },
                _ => hearth::motion::detector::DetectorConfig::default(),
            };
            detect(&input, base, fps, sensitivity, frames)
        }
        Cmd::User { cmd } => {
            let config = match &cmd {
                UserCmd::Add { config, .. }
                | UserCmd::Edit { config, .. }
                | UserCmd::Passwd { config, .. }
                | UserCmd::List { config }
                | UserCmd::Remove { config, .. }
                | UserCmd::ResetTotp { config, .. } => config.clone(),
            };
            match Config::load(&config) {
                Ok(c) => hearth::cli::user(&c, cmd.into()),
                Err(e) => return config_error(e),
            }
        }
        Cmd::Key { cmd } => match cmd {
            KeyCmd::Generate { output } => {
                hearth::key_cmd::generate(&output).map(|_| ExitCode::SUCCESS)
            }
            KeyCmd::Rotate { config, new } => match Config::load(&config) {
                Ok(c) => hearth::key_cmd::rotate(&c, &new).map(|_| ExitCode::SUCCESS),
                Err(e) => return config_error(e),
            },
            KeyCmd::EncryptExisting { config } => match Config::load(&config) {
                Ok(c) => hearth::key_cmd::encrypt_existing(&c).map(|s| {
                    println!(
                        "sealed {} segment files, {} events' pictures and {} exports ({} bytes)",
                        s.segments, s.events, s.exports, s.bytes
                    );
                    ExitCode::SUCCESS
                }),
                Err(e) => return config_error(e),
            },
        },
        Cmd::Audit { cmd } => {
            let (config, what) = match cmd {
                AuditCmd::Verify { config, checkpoint } => (
                    config,
                    hearth::cli::AuditAction::Verify {
                        checkpoints: checkpoint,
                    },
                ),
                AuditCmd::List {
                    config,
                    user,
                    limit,
                } => (config, hearth::cli::AuditAction::List { user, limit }),
            };
            match Config::load(&config) {
                Ok(c) => hearth::cli::audit(&c, what),
                Err(e) => return config_error(e),
            }
        }
        Cmd::Demo {
            cameras,
            data_dir,
            listen,
        } => runtime().and_then(|rt| {
            rt.block_on(async {
                hearth::demo::run(cameras, data_dir, listen, shutdown_signal()).await
            })
        }),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hearth: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_error(e: hearth::config::ConfigError) -> ExitCode {
    eprintln!("hearth: {e}");
    ExitCode::from(EXIT_CONFIG)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// A receiver that turns true on SIGINT or SIGTERM.
fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("cannot listen for SIGTERM: {e}");
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("signal received");
        let _ = tx.send(true);
    });
    rx
}

async fn run(path: &std::path::Path, cfg: Config) -> anyhow::Result<ExitCode> {
    hearth::nvr::run(path, cfg, shutdown_signal(), None).await?;
    Ok(ExitCode::SUCCESS)
}

fn init(cfg: &Config) -> anyhow::Result<ExitCode> {
    use hearth::record::data_dir::{self, Initialised};
    let dir = &cfg.storage.data_dir;
    match data_dir::init(dir)? {
        Initialised::Created(id) => println!(
            "{}: Hearth data directory {id}; start recording with `hearth run`",
            dir.display()
        ),
        Initialised::Already(id) => println!(
            "{}: already Hearth data directory {id}; nothing changed",
            dir.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(cfg: &Config, repair: bool) -> anyhow::Result<ExitCode> {
    let dir = &cfg.storage.data_dir;
    let _lock = hearth::record::data_dir::lock(dir)?;
    let store = hearth::record::data_dir::open(dir)?.store;
    // SQLite's own check first: a damaged index cannot be repaired from here.
    let damaged = store.integrity_problems()?;
    if !damaged.is_empty() {
        for d in &damaged {
            println!("index {}: {d}", dir.join("hearth.db").display());
        }
        println!(
            "the index is damaged; stop Hearth, move hearth.db aside and run \
             `hearth verify --repair` to rebuild it from the files"
        );
        return Ok(ExitCode::FAILURE);
    }
    let footage = hearth::nvr::footage(cfg, store)?;
    let report =
        hearth::record::recovery::check(&footage, repair, hearth::record::recovery::Scope::Full)?;
    for p in &report.problems {
        println!("{p}");
    }
    for q in &report.quarantined {
        println!("{q}: quarantined (unreadable, not indexed); inspect it, then delete it");
    }
    if report.problems.is_empty() && !report.quarantined.is_empty() {
        println!(
            "{} segments consistent; {} files quarantined",
            report.segments,
            report.quarantined.len()
        );
        Ok(ExitCode::FAILURE)
    } else if report.problems.is_empty() {
        println!("OK: {} segments consistent", report.segments);
        Ok(ExitCode::SUCCESS)
    } else if repair {
        println!("repaired {} problems", report.problems.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "{} problems found; `hearth verify --repair` fixes them",
            report.problems.len()
        );
        Ok(ExitCode::FAILURE)
    }
}

fn verify_export(file: &Path, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut f =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let v = match hearth::export_proof::verify(&mut f) {
        Ok(v) => v,
        Err(why) => {
            println!("FAILED: {}: {why}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let m = &v.manifest;
    if let Some(want) = key
        && want.trim() != m.installation
        && want.trim() != v.signer
    {
        println!(
            "FAILED: {}: signed by key {}, not by the key given",
            file.display(),
            v.signer
        );
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "OK: {} is unchanged since key {} signed it{}: camera {}, {} stream, {} to {}, \
         {} bytes of video from {} segment files",
        file.display(),
        v.signer,
        if key.is_some() {
            " (the key given)"
        } else {
            ""
        },
        m.camera,
        m.stream,
        m.from,
        m.to,
        m.video_bytes,
        m.segments.len()
    );
    for a in &m.audit {
        println!(
            "audit entry #{} at {}: {} by {} ({})",
            a.id,
            a.time,
            a.action,
            a.user.as_deref().unwrap_or("-"),
            a.detail.as_deref().unwrap_or("")
        );
    }
    if key.is_none() {
        println!(
            "compare the key with the one on the System page of the Hearth it came from, \
             or pass it with --key"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn detect(
    input: &Path,
    mut cfg: hearth::motion::detector::DetectorConfig,
    fps: Option<f32>,
    sensitivity: Option<f32>,
    frames: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(fps) = fps {
        if !(0.1..=60.0).contains(&fps) {
            bail!("--fps must be between 0.1 and 60");
        }
        cfg.fps = fps;
    }
    if let Some(s) = sensitivity {
        if !(0.0..=1.0).contains(&s) {
            bail!("--sensitivity must be between 0 and 1");
        }
        cfg.sensitivity = s;
    }
    let report = hearth::motion::offline::detect_file(input, &cfg, frames)?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

fn parse_time(flag: &str, s: &str) -> anyhow::Result<i64> {
    Ok(chrono::DateTime::parse_from_rfc3339(s)
        .with_context(|| {
            format!("{flag} {s:?} is not an RFC 3339 time such as 2026-11-28T21:00:00Z")
        })?
        .timestamp_micros())
}

fn export(
    cfg: &Config,
    camera: &str,
    stream: &str,
    (from, to): (&str, &str),
    output: &Path,
    bundle: bool,
) -> anyhow::Result<ExitCode> {
    let from_us = parse_time("--from", from)?;
    let to_us = parse_time("--to", to)?;
    let Some(stream) = hearth::config::StreamKind::parse(stream) else {
        bail!("--stream {stream:?}: a camera's streams are main and sub");
    };
    if cfg.camera(camera).is_none() {
        bail!("no camera named {camera:?} in the config");
    }
    let (store, audit) = hearth::cli::open(cfg)?;
    let footage = hearth::nvr::footage(cfg, store)?;
    let plan = hearth::record::export::plan(&footage, camera, stream, from_us, to_us)?;
    let proof = match bundle {
        true => Some((
            hearth::export_proof::SigningKey::load_or_create(&cfg.storage.data_dir)?,
            hearth::record::export::manifest(&footage, camera, stream, from_us, to_us)?,
        )),
        false => None,
    };
    // Footage leaves only once its audit entry has committed.
    let record = hearth::security::audit_chain::Record {
        user: Some(hearth::cli::os_user()),
        action: hearth::security::audit_chain::action::EXPORT.into(),
        camera: Some(camera.to_owned()),
        from_us: Some(from_us),
        to_us: Some(to_us),
        detail: Some(format!(
            "{stream} stream to {}{}",
            output.display(),
            if bundle { " (signed bundle)" } else { "" }
        )),
        ..Default::default()
    };
    let entry = audit
        .append_entry(record.clone())
        .context("cannot write the audit log, so nothing is exported")?;
    let tmp = output.with_extension("mp4.partial");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = hearth::export_proof::Hashing::new(std::io::BufWriter::new(file));
    if let Err(e) = plan.write_range(&footage, 0, plan.len, &mut w) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    let sum = plan.summary;
    let (mut w, video_bytes, video_sha256) = w.finish();
    if let Some((key, mut manifest)) = proof {
        manifest.video_bytes = video_bytes;
        manifest.video_sha256 = video_sha256;
        manifest.audit = vec![hearth::export_proof::AuditRef::new(
            entry.id,
            entry.time_us,
            &entry.hash,
            &record,
        )];
        std::io::Write::write_all(&mut w, &key.proof_box(manifest))?;
    }
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&tmp, output)?;
    println!(
        "wrote {}: {} frames, {} bytes, {} to {}",
        output.display(),
        sum.frames,
        sum.bytes,
        fmt_us(sum.first_us),
        fmt_us(sum.last_us)
    );
    Ok(ExitCode::SUCCESS)
}

fn fmt_us(us: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_default()
}

async fn fake_camera(
    listen: String,
    file: Option<PathBuf>,
    user: Option<String>,
    password: Option<String>,
    scheme: hearth::fakecam::AuthScheme,
    behaviour: hearth::fakecam::Behaviour,
) -> anyhow::Result<ExitCode> {
    let auth = match (user, password) {
        (Some(user), Some(password)) => Some(hearth::fakecam::Auth {
            user,
            password,
            scheme,
        }),
        (None, None) => None,
        _ => bail!("--user and --password go together"),
    };
    let server =
        hearth::fakecam::FakeCamera::start(&listen, file.as_deref(), auth, behaviour).await?;
    println!("fake camera serving rtsp://{}/main and /sub", server.addr());
    let mut sig = shutdown_signal();
    let _ = sig.wait_for(|&s| s).await;
    Ok(ExitCode::SUCCESS)
}

impl From<UserCmd> for hearth::cli::UserAction {
    fn from(c: UserCmd) -> Self {
        use hearth::cli::UserAction as A;
        match c {
            UserCmd::Add { name, grant, .. } => A::Add {
                name,
                admin: grant.role == "admin",
                cameras: grant.cameras,
            },
            UserCmd::Edit { name, grant, .. } => A::Edit {
                name,
                admin: grant.role == "admin",
                cameras: grant.cameras,
            },
            UserCmd::Passwd { name, .. } => A::Passwd { name },
            UserCmd::List { .. } => A::List,
            UserCmd::Remove { name, .. } => A::Remove { name },
            UserCmd::ResetTotp { name, .. } => A::ResetTotp { name },
        }
    }
}
