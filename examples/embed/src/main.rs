//! Embeds the recsys engine: generates a catalogue, trains the statically linked bundled
//! plugins on it, and prints recommendations for a history, similar items and a search.

use recsys_embed_example::{catalogue, engine, history, static_plugins};

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let dataset = catalogue(dir.path())?;
    println!(
        "catalogue: {} users, {} items, {} interactions",
        dataset.users.len(),
        dataset.items.len(),
        dataset.interactions.len()
    );
    let plugins = static_plugins()?;
    for plugin in &plugins {
        let info = plugin.info();
        println!(
            "plugin {} {} (API {}.{}) {}",
            info.name,
            info.version,
            info.api_major,
            info.api_minor,
            plugin.origin()
        );
    }
    let engine = engine(plugins, &dataset)?;
    let catalogue = engine.catalogue();
    let title = |asin: &str| catalogue.title(asin).unwrap_or("(no title)").to_string();

    let history = history(&dataset);
    println!("\nhistory:");
    for interest in &history {
        println!("  liked {} {}", interest.asin, title(&interest.asin));
    }
    println!("\nrecommendations:");
    for rec in engine.recommend(&history, 10)? {
        println!(
            "  {} {:<48} {:.4}  {}",
            rec.asin,
            title(&rec.asin),
            rec.score,
            rec.because
        );
    }

    let item = &history[0].asin;
    println!("\nsimilar to {item} {}:", title(item));
    for s in engine.similar(item, 5)? {
        println!("  {} {:<48} {:.4}", s.asin, title(&s.asin), s.score);
    }

    let word = "headphones";
    println!("\nsearch for {word:?}:");
    for s in engine.search(word, 5)? {
        println!("  {} {:<48} {:.4}", s.asin, title(&s.asin), s.score);
    }
    Ok(())
}
