use functions::runtime::{Warm, run_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_http(functions::openapi::handle, Warm::Nothing).await
}
