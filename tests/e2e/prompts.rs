//! Every core persona prompt fits the spec's budget of 1,500 tokens,
//! counted with the all-MiniLM-L6-v2 WordPiece tokenizer the search uses.

use agent_os::rag::ModelPaths;

const BUDGET: usize = 1_500;

#[test]
fn core_persona_prompts_fit_in_1500_tokens() {
    let file = ModelPaths::from_env().expect("a models folder").model_dir.join("tokenizer.json");
    if !file.is_file() {
        eprintln!(
            "SKIPPED core_persona_prompts_fit_in_1500_tokens: no tokenizer at {}; run scripts/setup-models.sh",
            file.display()
        );
        return;
    }
    let mut tokenizer = tokenizers::Tokenizer::from_file(&file).expect("reading tokenizer.json");
    // The file truncates to the model's window; count everything.
    tokenizer.with_truncation(None).expect("disabling truncation");
    tokenizer.with_padding(None);

    let personas = crate::support::repo().join("personas");
    let mut counted = Vec::new();
    for entry in std::fs::read_dir(&personas).expect("personas/") {
        let prompt = entry.unwrap().path().join("prompt.md");
        let Ok(text) = std::fs::read_to_string(&prompt) else { continue };
        let tokens = tokenizer.encode(text.as_str(), true).expect("tokenizing").len();
        let id = prompt.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        eprintln!("{id:<10} {tokens:>5} tokens  {:>6} characters", text.chars().count());
        counted.push((id, tokens));
    }
    counted.sort();
    let ids: Vec<&str> = counted.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["architect", "data", "engineer", "qa", "security", "sre"]);
    let over: Vec<_> = counted.iter().filter(|(_, n)| *n > BUDGET).collect();
    assert!(over.is_empty(), "prompts over {BUDGET} tokens: {over:?}");
    // A sanity floor: an empty or truncated count would pass the budget trivially.
    assert!(counted.iter().all(|(_, n)| *n > 300), "{counted:?}");
}
