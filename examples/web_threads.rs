//! A User/Profile page served from several threads: a `Pool` in the server's
//! state, one handle per request, a `post_save` hook registered once for the
//! whole application (every handle runs it).
//!
//! The server is a few lines of `std::net` on 127.0.0.1 (any free port); the
//! example also plays the browsers: four client threads each sign up a user
//! and fetch pages, then it prints what they saw and exits.
//!
//! Run with `cargo run --example web_threads`. From an async framework (axum,
//! actix), keep the `Pool` in the app state and call the ORM inside
//! `tokio::task::spawn_blocking`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use orm_core::prelude::*;
use orm_core::Pool;

#[derive(Model, Debug, Clone)]
#[model(app = "auth")]
pub struct User {
    pub id: Option<i64>,
    #[field(unique, max_length = 150)]
    pub username: String,
    pub is_staff: bool,
}

#[derive(Model, Debug, Clone)]
#[model(app = "app")]
pub struct Profile {
    pub id: Option<i64>,
    #[one_to_one(on_delete = "cascade", related_name = "profile")]
    pub user: OneToOne<User>,
    pub bio: Option<String>,
}

/// One request: `GET /users/<name>` renders the user's page, `POST
/// /signup/<name>` creates the user (the hook creates the profile).
fn handle(pool: &Pool, mut stream: TcpStream) -> orm_core::Result<()> {
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let db = pool.get()?; // this request's handle, back to the pool on drop
    let (status, body) = match (method, path.split('/').collect::<Vec<_>>().as_slice()) {
        ("POST", ["", "signup", name]) => {
            let user = User {
                id: None,
                username: (*name).to_string(),
                is_staff: false,
            }
            .create(&db)?;
            ("201 Created", format!("welcome {}", user.username))
        }
        ("GET", ["", "users", name]) => {
            // One statement for the profile and its user.
            match Profile::objects()
                .select_related(Profile::user())
                .filter(Profile::user().then(User::username()).eq(*name))
                .get(&db)
            {
                Ok(p) => (
                    "200 OK",
                    format!(
                        "<h1>{}</h1><p>{}</p>",
                        p.user.get(&db)?.username,
                        p.bio.as_deref().unwrap_or("")
                    ),
                ),
                Err(e) if e.is_does_not_exist() => ("404 Not Found", "no such user".into()),
                Err(e) => return Err(e),
            }
        }
        _ => ("400 Bad Request", String::new()),
    };
    write!(
        stream,
        "HTTP/1.0 {status}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| Error::Usage(e.to_string()))
}

fn request(addr: std::net::SocketAddr, method: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to the example server");
    write!(s, "{method} {path} HTTP/1.0\r\n\r\n").expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out.lines().next().unwrap_or("").to_string();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    format!("{path}: {status} {body}")
}

fn main() -> orm_core::Result<()> {
    let dir = std::env::temp_dir().join(format!("orm-web-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::Usage(e.to_string()))?;
    let pool = Pool::open(dir.join("app.sqlite3"))?;
    pool.get()?.migrate()?;

    // Registered once: whichever handle saves a new user runs it.
    pool.hooks().on_post_save::<User>(|db, user, created| {
        if created {
            Profile {
                id: None,
                user: OneToOne::to(user),
                bio: Some(format!("{} joined", user.username)),
            }
            .save(db)?;
        }
        Ok(())
    });

    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Usage(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Usage(e.to_string()))?;
    let clients = 4;
    let requests = clients * 3;
    let server = {
        let pool = pool.clone();
        thread::spawn(move || {
            let mut workers = Vec::new();
            for stream in listener.incoming().take(requests) {
                let pool = pool.clone();
                let stream = stream.expect("accept");
                workers.push(thread::spawn(move || handle(&pool, stream)));
            }
            for w in workers {
                w.join().expect("worker thread")?;
            }
            Ok::<(), Error>(())
        })
    };

    let browsers: Vec<_> = (0..clients)
        .map(|i| {
            thread::spawn(move || {
                let name = format!("user{i}");
                vec![
                    request(addr, "POST", &format!("/signup/{name}")),
                    request(addr, "GET", &format!("/users/{name}")),
                    request(addr, "GET", &format!("/users/nobody{i}")),
                ]
            })
        })
        .collect();
    let mut lines: Vec<String> = browsers
        .into_iter()
        .flat_map(|b| b.join().expect("browser thread"))
        .collect();
    server.join().expect("server thread")?;
    lines.sort();
    for l in &lines {
        println!("{l}");
    }
    let db = pool.get()?;
    println!(
        "{} users, {} profiles, made by one hook on {} threads",
        User::objects().count(&db)?,
        Profile::objects().count(&db)?,
        clients
    );
    drop(db);
    drop(pool);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
