//! Tutorial level "POST": read a request body, always under a limit.
//!
//! The body is streamed from the connection; [`RequestExt::form`],
//! [`RequestExt::text`] (and `bytes`, `json`) read all of it, failing with
//! `413` past the limit, `415` for the wrong `Content-Type` and `400` for
//! bad encoding. `Expect: 100-continue` is answered when the body is first
//! read. GET `/` shows a form that posts to `/form`.
//!
//! ```text
//! cargo run --example 08_post -- --port 8080
//! curl -i http://127.0.0.1:8080/form -d 'name=Ada&lang=rust&lang=c'
//! curl -i http://127.0.0.1:8080/text -H 'content-type: text/plain' -d 'hello'
//! head -c 100000 /dev/zero | curl -i http://127.0.0.1:8080/text --data-binary @-  # 413
//! curl -i http://127.0.0.1:8080/form -H 'content-type: text/plain' -d 'x'  # 415
//! ```

use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

/// The most a body may hold here.
const LIMIT: usize = 64 * 1024;

const PAGE: &str = r#"<form method="post" action="/form">
  <input name="name" placeholder="name"> <button>Send</button>
</form>
"#;

async fn form(req: Request) -> Result<String, Rejection> {
    let form = req.form(LIMIT).await?;
    let name = form.get("name").unwrap_or("stranger");
    let langs: Vec<&str> = form.get_all("lang").collect();
    Ok(format!("hello {name}; languages: {langs:?}\n"))
}

async fn text(req: Request) -> Result<String, Rejection> {
    let text = req.text(LIMIT).await?;
    Ok(format!(
        "{} bytes, {} words\n",
        text.len(),
        text.split_whitespace().count()
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    let app = Router::new()
        .get("/", |_req: Request| async { Response::html(PAGE) })
        .post("/form", form)
        .post("/text", text);
    println!("08_post: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}")).serve(app).await?;
    Ok(())
}
