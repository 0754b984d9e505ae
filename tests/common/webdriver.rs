//! A minimal W3C WebDriver client for Debian's chromium through chromedriver:
//! enough to open pages, fill and click, and run a script. Headless, with a
//! throwaway profile and no background networking.

#![allow(dead_code)]

use super::Proc;
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::Duration;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    _driver: Proc,
    _profile: tempfile::TempDir,
    agent: ureq::Agent,
    base: String,
}

impl Browser {
    pub fn start() -> Browser {
        let port = super::free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver)");
        let driver = Proc::new(child, "chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let root = format!("http://127.0.0.1:{port}");
        assert!(
            super::wait_until(Duration::from_secs(30), || {
                agent
                    .get(format!("{root}/status"))
                    .call()
                    .is_ok_and(|r| r.status() == 200)
            }),
            "chromedriver did not start"
        );
        let profile = tempfile::tempdir().expect("profile");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--autoplay-policy=no-user-gesture-required",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
        }}});
        let mut r = agent
            .post(format!("{root}/session"))
            .send_json(&caps)
            .expect("new session");
        let v: Value = r.body_mut().read_json().expect("session reply");
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {v}"))
            .to_owned();
        Browser {
            _driver: driver,
            _profile: profile,
            agent,
            base: format!("{root}/session/{id}"),
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let r = match method {
            "GET" => self.agent.get(url).call(),
            _ => self.agent.post(url).send_json(&body),
        };
        let mut r = r.expect("webdriver");
        let v: Value = r.body_mut().read_json().expect("webdriver reply");
        v["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    pub fn url(&self) -> String {
        self.cmd("GET", "/url", json!({}))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            json!({ "text": text }),
        );
    }

    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), json!({}));
    }

    /// The window's outer size in CSS pixels (a phone: 390 × 844).
    pub fn resize(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            json!({ "width": width, "height": height }),
        );
    }

    /// Runs `js` in every page from now on, before the page's own scripts
    /// (Chrome DevTools' Page.addScriptToEvaluateOnNewDocument).
    pub fn before_scripts(&self, js: &str) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": js}}),
        );
    }

    /// Logs in on `{url}login`; true once it landed on the live wall.
    pub fn log_in(&self, url: &str, user: &str, password: &str) -> bool {
        self.goto(&format!("{url}login"));
        self.type_into("input[name=username]", user);
        self.type_into("input[name=password]", password);
        self.click("form button[type=submit]");
        super::wait_until(Duration::from_secs(20), || self.url() == url)
    }

    /// Sends keys to an element (WebDriver key codes: "\u{E007}" is Enter).
    pub fn cmd_keys(&self, element: &str, keys: &str) {
        self.cmd(
            "POST",
            &format!("/element/{element}/value"),
            json!({ "text": keys }),
        );
    }

    /// Moves a mouse over `element` (x offsets from its centre, in CSS pixels):
    /// each step "down", "move" or "up" at its offset. The button stays down
    /// between calls until an "up".
    pub fn pointer(&self, element: &str, steps: &[(i64, &str)]) {
        let steps: Vec<(i64, i64, &str)> = steps.iter().map(|&(x, what)| (x, 0, what)).collect();
        self.pointer_at(element, &steps);
    }

    /// [`Browser::pointer`] with x and y offsets from the element's centre.
    pub fn pointer_at(&self, element: &str, steps: &[(i64, i64, &str)]) {
        let mut origin = serde_json::Map::new();
        origin.insert(ELEMENT.into(), element.into());
        let mut actions = Vec::new();
        for (x, y, what) in steps {
            actions.push(
                json!({"type": "pointerMove", "duration": 100, "origin": &origin, "x": x, "y": y}),
            );
            match *what {
                "down" => actions.push(json!({"type": "pointerDown", "button": 0})),
                "up" => actions.push(json!({"type": "pointerUp", "button": 0})),
                _ => {}
            }
        }
        self.cmd(
            "POST",
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]}),
        );
    }

    pub fn script(&self, js: &str) -> Value {
        self.cmd("POST", "/execute/sync", json!({ "script": js, "args": [] }))
    }

    /// A PNG of the page, for looking at when a test fails.
    pub fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let v = self.cmd("GET", "/screenshot", json!({}));
        if let Some(b) = v.as_str() {
            if let Ok(png) = base64::engine::general_purpose::STANDARD.decode(b) {
                let _ = std::fs::write(path, png);
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.base).call();
    }
}
