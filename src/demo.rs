//! `hearth demo`: simulated cameras recorded into a throwaway data directory, saying
//! what it does as it goes, with a one-time login link for its first admin.

use crate::config::Config;
use crate::fakecam::FakeCamera;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::sync::watch;

pub async fn run(
    cameras: usize,
    data_dir: Option<PathBuf>,
    listen: std::net::SocketAddr,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<ExitCode> {
    let cameras = cameras.clamp(1, 64);
    let (dir, _tmp) = match data_dir {
        Some(d) => (d, None),
        None => {
            let t = std::env::temp_dir().join(format!("hearth-demo-{}", std::process::id()));
            (t.clone(), Some(TempDir(t)))
        }
    };
    crate::record::data_dir::init(&dir)?;
    println!("Hearth demo: encoding the simulated scene (a few seconds)...");
    let cam = FakeCamera::start("127.0.0.1:0", None, None, Default::default()).await?;
    let addr = cam.addr();
    // Plain HTTP on loopback: browsers treat http://127.0.0.1 as a secure context.
    let mut text = format!(
        "[storage]\ndata_dir = {:?}\nsegment_duration = \"60s\"\nmax_bytes = \"2GB\"\n\n\
         [server]\nlisten = \"{listen}\"\ntls = \"off\"\n",
        dir.display().to_string()
    );
    for i in 1..=cameras {
        text.push_str(&format!(
            "\n[[cameras]]\nname = \"demo{i}\"\nurl = \"rtsp://{addr}/demo{i}/main\"\nsub_url = \"rtsp://{addr}/demo{i}/sub\"\n"
        ));
    }
    let cfg_path = dir.join("demo.toml");
    std::fs::write(&cfg_path, &text)?;
    let cfg = Config::parse(&text, &cfg_path)?;
    println!(
        "Simulated cameras: rtsp://{addr}/demo1/main ... /demo{cameras}/main (1280x720, 15 fps)"
    );
    println!("Recording {cameras} cameras into {}", dir.display());
    println!(
        "Config written to {} (try `hearth verify --config` on it after stopping)",
        cfg_path.display()
    );
    let c = cfg.clone();
    let admin = tokio::task::spawn_blocking(move || first_admin(&c)).await??;
    // The link works only from this machine: point it at loopback.
    let host = match listen.ip() {
        ip if ip.is_unspecified() => {
            std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), listen.port())
        }
        _ => listen,
    };
    // The link is printed once the server takes connections, so it works when clicked.
    let (listening, heard) = tokio::sync::oneshot::channel();
    let print_link = async {
        if heard.await.is_err() {
            return;
        }
        println!(
            "Open http://{host}/login/once/{} to log in as {} (once, within {} minutes, on this machine)",
            admin.link,
            admin.name,
            LINK_VALID_US / 60_000_000
        );
        if let Some(pw) = &admin.password {
            println!("Or log in as {} with the password {pw}", admin.name);
        }
        println!("Press Ctrl-C to stop.");
    };
    let (reports, ()) = tokio::join!(
        crate::nvr::run(&cfg_path, cfg, shutdown, Some(listening)),
        print_link
    );
    let reports = reports?;
    for r in reports {
        println!(
            "{}/{}: {} frames received, {} recorded in {} segments",
            r.camera, r.stream, r.frames_received, r.recorder.frames_written, r.recorder.segments
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// How long the printed login link stays good.
const LINK_VALID_US: i64 = 10 * 60 * 1_000_000;

/// The first admin, and how to log in as them.
struct Admin {
    name: String,
    /// Set when the admin was made just now.
    password: Option<String>,
    link: String,
}

/// A throwaway demo on this machine: its first admin's password and a login link
/// may go to the console (a real install hands the password over in a private file).
fn first_admin(cfg: &Config) -> anyhow::Result<Admin> {
    let (store, audit) = crate::cli::open(cfg)?;
    let accounts = crate::security::accounts::Accounts {
        store: &store,
        audit: &audit,
        cameras: Vec::new(),
    };
    let password = accounts.ensure_admin()?;
    let name = store
        .users()?
        .into_iter()
        .filter(|u| u.role == crate::store::Role::Admin)
        .min_by_key(|u| u.id)
        .map(|u| u.name)
        .ok_or_else(|| anyhow::anyhow!("the demo's data directory has no admin"))?;
    let by = crate::security::accounts::Actor {
        user: "hearth demo",
        address: None,
    };
    let link = accounts.login_link(&by, &name, LINK_VALID_US)?;
    Ok(Admin {
        name,
        password,
        link,
    })
}

/// Removes the throwaway directory when the demo ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
