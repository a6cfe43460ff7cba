use functions::runtime::{Warm, run_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_http(functions::deletion_cancel::handle, Warm::Nothing).await
}
