//! STUB until the real ServeDir lands.
#![allow(missing_docs)]
use crate::{Handler, Request, Response, handler::BoxFuture};
pub struct ServeDir;
impl ServeDir { pub fn new(_root: impl AsRef<std::path::Path>) -> ServeDir { ServeDir } }
impl Handler for ServeDir { fn call(&self, _req: Request) -> BoxFuture<Response> { Box::pin(async { crate::response::status(http::StatusCode::NOT_FOUND) }) } }
