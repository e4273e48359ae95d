//! Measures the sled store: time to write N conversation links and its size on disk.
//!
//! `cargo run --release --example store_size -- [N]` (default 10000). Prints figures; not a test.

use std::time::Instant;

use orange_ticket_bot::domain::{Conversation, TicketId};
use orange_ticket_bot::store::Store;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let started = Instant::now();
    for i in 0..n {
        // Realistic shapes: 18-digit Discord thread ids, 10-digit Orange ticket ids, a few
        // conversations per ticket.
        let conversation = Conversation::discord(1_180_000_000_000_000_000 + i);
        let ticket = TicketId::parse(&format!("{:010}", 1_600_000_000 + i / 3))?;
        store.link(&conversation, &ticket).await?;
    }
    let write = started.elapsed();
    store.flush().await?;
    let reported = store.size_on_disk().await?;
    let mut on_disk = 0u64;
    for entry in walk(dir.path())? {
        on_disk += entry;
    }
    println!("links written:          {n}");
    println!(
        "time (durable links):   {:.2} s ({:.0} links/s)",
        write.as_secs_f64(),
        n as f64 / write.as_secs_f64()
    );
    println!(
        "sled size_on_disk():    {:.2} MiB",
        reported as f64 / 1_048_576.0
    );
    println!(
        "directory on disk:      {:.2} MiB",
        on_disk as f64 / 1_048_576.0
    );
    drop(store);
    Ok(())
}

fn walk(dir: &std::path::Path) -> std::io::Result<Vec<u64>> {
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            sizes.extend(walk(&entry.path())?);
        } else {
            sizes.push(meta.len());
        }
    }
    Ok(sizes)
}
