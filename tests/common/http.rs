//! A small HTTP client for the web tests (ureq): no redirects followed, statuses
//! returned rather than raised, the session cookie and CSRF token carried by hand.

#![allow(dead_code)]

use std::time::Duration;

pub struct Client {
    agent: ureq::Agent,
    pub base: String,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl Client {
    pub fn new(base: &str) -> Client {
        let tls = ureq::tls::TlsConfig::builder()
            .disable_verification(true)
            .build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .tls_config(tls)
            .build()
            .into();
        Client {
            agent,
            base: base.trim_end_matches('/').to_owned(),
            cookie: None,
            csrf: None,
        }
    }

    fn finish(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut r = r.expect("HTTP request failed");
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let status = r.status().as_u16();
        let body = r
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// GET with extra headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::finish(req.call())
    }

    /// The status of a GET whose body never ends (an event stream), unread.
    pub fn stream_status(&self, path: &str) -> u16 {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        req.call().expect("HTTP request failed").status().as_u16()
    }

    pub fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[])
    }

    /// POST a body (JSON unless `content_type` says otherwise), with the CSRF
    /// header when the client has a token.
    pub fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Reply {
        self.try_post_raw(path, content_type, body, headers)
            .expect("HTTP request failed")
    }

    /// As `post_raw`, but a connection the server cut short is `None`.
    pub fn try_post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Option<Reply> {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        match req.send(body) {
            Err(ureq::Error::Io(_)) => None,
            r => Some(Self::finish(r)),
        }
    }

    /// DELETE, with the CSRF header when the client has a token.
    pub fn delete(&self, path: &str) -> Reply {
        let mut req = self.agent.delete(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        Self::finish(req.call())
    }

    pub fn post(&self, path: &str, json: serde_json::Value) -> Reply {
        self.post_raw(path, "application/json", json.to_string().as_bytes(), &[])
    }

    /// A client at `base` logged in as `who` (name, password); panics when refused.
    pub fn logged_in(base: &str, who: (&str, &str)) -> Client {
        let mut c = Client::new(base);
        let r = c.login(who.0, who.1);
        assert_eq!(r.status, 200, "login {}: {}", who.0, r.text());
        c
    }

    /// Logs in through the JSON API; keeps the cookie and CSRF token.
    pub fn login(&mut self, user: &str, password: &str) -> Reply {
        let r = self.post(
            "/api/login",
            serde_json::json!({ "username": user, "password": password }),
        );
        if r.status == 200 {
            let set = r.header("set-cookie").unwrap_or_default();
            self.cookie = set.split(';').next().map(str::to_owned);
            self.csrf = r.json()["csrf_token"].as_str().map(str::to_owned);
        }
        r
    }
}
