#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    functions::runtime::run_scheduled(functions::purge_accounts::handle).await
}
