// SPDX-License-Identifier: GPL-2.0

//! Replays a fuzz corpus through the planner and prints how often each outcome occurs.
//!
//! Usage: `cargo run --example fuzz_corpus_stats -- fuzz/corpus/plan_write`.

use std::collections::BTreeMap;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus/plan_write".to_string());
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut files = 0u32;
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
    for entry in entries.flatten() {
        let Ok(data) = std::fs::read(entry.path()) else {
            continue;
        };
        files += 1;
        let key = match rtun_host::check::fuzz_one(&data) {
            None => "too short".to_string(),
            Some(Ok(p)) if p.skb.gso.is_some() => "accepted gso".to_string(),
            Some(Ok(p)) if p.skb.csum.is_some() => "accepted csum".to_string(),
            Some(Ok(_)) => "accepted plain".to_string(),
            Some(Err(e)) => format!("{e:?}"),
        };
        *seen.entry(key).or_insert(0) += 1;
    }
    println!("{files} inputs in {dir}");
    for (k, v) in &seen {
        println!("{v:8}  {k}");
    }
}
