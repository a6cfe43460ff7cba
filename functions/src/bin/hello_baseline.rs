//! The baseline of `make bench`: a `lambda_http` function that answers every request with a fixed
//! body, built with the same profile and command as the functions. Whatever a real function costs
//! beyond this is the price of its own work. Not part of the template: never deployed.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

// The same single-threaded runtime as the functions (see `functions::runtime`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: Request| async {
        let response = Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from("{\"hello\":\"world\"}"))?;
        Ok::<_, Error>(response)
    }))
    .await
}
