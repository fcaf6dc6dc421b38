//! Question answering with a language model: answers generated from the retrieved context with
//! LoCoMo's official prompt conventions, scored by LoCoMo token F1 and by an LLM judge.

use std::sync::Arc;
use std::time::Instant;

use chrono::DateTime;
use memory::llm::{ChatMessage, ChatRequest, LanguageModel, LlmUsage};
use serde::{Deserialize, Serialize};

use crate::dataset::Category;
use crate::f1::score;
use retrieval::budget;

use crate::metrics::RetrievedUnit;
use crate::run::QuestionOutcome;
use crate::stats::Latency;

/// What to answer and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaOptions {
    /// Modes whose retrieved units become the context.
    pub modes: Vec<String>,
    /// Context budget in tokens (characters / 4).
    pub budget: usize,
    /// Answer only the first this many questions.
    pub limit: Option<usize>,
    /// Also ask the model to judge each answer of categories 1-4.
    pub judge: bool,
}

/// The official RAG prompt's closing instruction.
const QA_PROMPT: &str = "Based on the above context, write an answer in the form of a short phrase for the \
following question. Answer with exact words from the context whenever possible.\n\nQuestion: {} Short answer:";
/// The official closing instruction for category 5.
const QA_PROMPT_CAT_5: &str =
    "Based on the above context, answer the following question.\n\nQuestion: {} Short answer:";
/// The official suffix of temporal questions.
const DATE_SUFFIX: &str = " Use DATE of CONVERSATION to answer with an approximate date.";
/// The refusal category 5 expects.
const NOT_MENTIONED: &str = "Not mentioned in the conversation";

/// A session time as LoCoMo writes it: `1:56 pm on 8 May, 2023`.
pub fn locomo_date(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%-I:%M %P on %-d %B, %Y").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// The context: `date: text` entries in rank order until `budget` tokens (the last entry cut).
pub fn context(units: &[RetrievedUnit], budget: usize) -> String {
    let mut entries: Vec<String> = Vec::new();
    let mut used = 0;
    for unit in units {
        if used >= budget {
            break;
        }
        let entry = format!("{}: {}", locomo_date(&unit.event_time), unit.text);
        let tokens = budget::tokens(&entry);
        if used + tokens <= budget {
            entries.push(entry);
        } else {
            entries.push(budget::truncate(&entry, budget - used));
        }
        used += tokens;
    }
    entries.join("\n\n")
}

/// For category 5, the two options in the order shown: seeded by the question, so runs repeat.
fn options(q: &QuestionOutcome) -> [String; 2] {
    let seed = q.sample_id.bytes().map(usize::from).sum::<usize>() + q.index;
    if seed.is_multiple_of(2) {
        [NOT_MENTIONED.to_owned(), q.answer.clone()]
    } else {
        [q.answer.clone(), NOT_MENTIONED.to_owned()]
    }
}

/// The answer prompt for a question over a context.
pub fn answer_prompt(q: &QuestionOutcome, context: &str) -> String {
    let (question, template) = match Category::from_id(u64::from(q.category)) {
        Some(Category::Temporal) => (format!("{}{DATE_SUFFIX}", q.question), QA_PROMPT),
        Some(Category::Adversarial) => {
            let [a, b] = options(q);
            (
                format!(
                    "{} Select the correct answer: (a) {a} (b) {b}. ",
                    q.question
                ),
                QA_PROMPT_CAT_5,
            )
        }
        _ => (q.question.clone(), QA_PROMPT),
    };
    format!("{context}\n\n{}", template.replace("{}", &question))
}

/// The answer a reply stands for: for category 5, a bare `a`/`b`/`(a)`/`(b)` picks that option.
pub fn interpret(q: &QuestionOutcome, reply: &str) -> String {
    let reply = reply.trim();
    if q.category == Category::Adversarial.id() {
        let low = reply.to_lowercase();
        let [a, b] = options(q);
        let pick = match low.as_str() {
            "a" | "(a)" => Some(a),
            "b" | "(b)" => Some(b),
            _ if low.starts_with("(a)") => Some(a),
            _ if low.starts_with("(b)") => Some(b),
            _ => None,
        };
        if let Some(option) = pick {
            return option;
        }
    }
    reply.to_owned()
}

/// The judge's prompt: a generous CORRECT/WRONG label against the gold answer.
pub fn judge_prompt(question: &str, gold: &str, prediction: &str) -> String {
    format!(
        "You grade answers to questions about a long conversation. Compare the generated answer \
         with the gold answer and label it CORRECT or WRONG. Be generous: an answer is CORRECT \
         when it refers to the same thing as the gold answer, even if it is longer, phrased \
         differently, or gives a date in another format or as a relative time that resolves to \
         the same date. It is WRONG when it names something else or says the information is \
         missing.\n\nQuestion: {question}\nGold answer: {gold}\nGenerated answer: {prediction}\n\n\
         Reply with JSON only: {{\"label\": \"CORRECT\"}} or {{\"label\": \"WRONG\"}}."
    )
}

/// Reads the judge's label; `None` when the reply says neither.
pub fn parse_judge(reply: &str) -> Option<bool> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(reply.trim()) {
        match v["label"].as_str().map(str::to_uppercase).as_deref() {
            Some("CORRECT") => return Some(true),
            Some("WRONG") => return Some(false),
            _ => {}
        }
    }
    let up = reply.to_uppercase();
    match (up.contains("CORRECT"), up.contains("WRONG")) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// One generated answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub mode: String,
    pub sample_id: String,
    pub index: usize,
    pub category: u8,
    pub question: String,
    pub gold: String,
    pub prediction: String,
    /// LoCoMo's official score for the category.
    pub f1: f64,
    /// The judge's verdict (categories 1-4 when judging); `None` when not judged or unreadable.
    pub judge: Option<bool>,
    /// Why there is no prediction, when the model failed.
    pub error: Option<String>,
    pub latency_ms: f64,
}

/// Scores of one mode over a group of questions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaGroup {
    pub key: String,
    pub label: String,
    pub categories: Vec<u8>,
    pub questions: usize,
    pub f1: f64,
    /// Share judged CORRECT among the judged questions of categories 1-4 in the group.
    pub judge: Option<f64>,
    pub judged: usize,
}

/// One mode's answer scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaModeSummary {
    pub mode: String,
    pub groups: Vec<QaGroup>,
    pub answer_latency_ms: crate::aggregate::LatencyMs,
}

/// Everything the answering step produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaResults {
    pub model: String,
    pub options: QaOptions,
    pub answers: Vec<Answer>,
    pub summary: Vec<QaModeSummary>,
    pub usage: LlmUsage,
}

fn qa_group(key: &str, label: String, categories: Vec<u8>, answers: &[&Answer]) -> QaGroup {
    let inside: Vec<&&Answer> = answers
        .iter()
        .filter(|a| categories.contains(&a.category))
        .collect();
    let f1 = if inside.is_empty() {
        0.0
    } else {
        inside.iter().map(|a| a.f1).sum::<f64>() / inside.len() as f64
    };
    let judged: Vec<bool> = inside
        .iter()
        .filter(|a| a.category <= 4)
        .filter_map(|a| a.judge)
        .collect();
    QaGroup {
        key: key.to_owned(),
        label,
        categories,
        questions: inside.len(),
        f1,
        judge: (!judged.is_empty())
            .then(|| judged.iter().filter(|j| **j).count() as f64 / judged.len() as f64),
        judged: judged.len(),
    }
}

/// Averages answer scores per mode: per category, over 1-4 and over 1-5.
pub fn summarise(answers: &[Answer], modes: &[String]) -> Vec<QaModeSummary> {
    modes
        .iter()
        .map(|mode| {
            let mine: Vec<&Answer> = answers.iter().filter(|a| &a.mode == mode).collect();
            let mut groups: Vec<QaGroup> = Category::ALL
                .iter()
                .map(|c| {
                    qa_group(
                        &format!("category_{}", c.id()),
                        format!("{} {}", c.id(), c.name()),
                        vec![c.id()],
                        &mine,
                    )
                })
                .collect();
            groups.push(qa_group(
                "overall_1_4",
                "overall (categories 1-4)".into(),
                vec![1, 2, 3, 4],
                &mine,
            ));
            groups.push(qa_group(
                "overall_1_5",
                "overall (categories 1-5)".into(),
                vec![1, 2, 3, 4, 5],
                &mine,
            ));
            let latencies: Vec<std::time::Duration> = mine
                .iter()
                .map(|a| std::time::Duration::from_secs_f64(a.latency_ms / 1e3))
                .collect();
            QaModeSummary {
                mode: mode.clone(),
                groups,
                answer_latency_ms: Latency::of(&latencies).into(),
            }
        })
        .collect()
}

fn answer_one(
    model: &dyn LanguageModel,
    q: &QuestionOutcome,
    units: &[RetrievedUnit],
    mode: &str,
    options: &QaOptions,
) -> Answer {
    let started = Instant::now();
    let request = ChatRequest {
        messages: vec![ChatMessage::user(answer_prompt(
            q,
            &context(units, options.budget),
        ))],
        max_tokens: 32,
        temperature: 0.0,
        json: false,
        schema: None,
    };
    let (prediction, error) = match model.chat(&request) {
        Ok(reply) => (interpret(q, &reply.text), None),
        Err(e) => (String::new(), Some(e.to_string())),
    };
    let category = Category::from_id(u64::from(q.category)).unwrap_or(Category::SingleHop);
    let judge = if options.judge && q.category <= 4 && error.is_none() {
        let request = ChatRequest {
            messages: vec![ChatMessage::user(judge_prompt(
                &q.question,
                &q.answer,
                &prediction,
            ))],
            max_tokens: 16,
            temperature: 0.0,
            json: true,
            schema: None,
        };
        model.chat(&request).ok().and_then(|r| parse_judge(&r.text))
    } else {
        None
    };
    Answer {
        mode: mode.to_owned(),
        sample_id: q.sample_id.clone(),
        index: q.index,
        category: q.category,
        question: q.question.clone(),
        gold: q.answer.clone(),
        f1: score(&prediction, &q.answer, category),
        prediction,
        judge,
        error,
        latency_ms: started.elapsed().as_secs_f64() * 1e3,
    }
}

/// Answers (and judges) the questions with the units each mode retrieved. Blocking; `progress`
/// is called after each answer.
pub fn answer_all(
    model: &Arc<dyn LanguageModel>,
    questions: &[QuestionOutcome],
    options: &QaOptions,
    progress: impl Fn(),
) -> QaResults {
    let mut answers = Vec::new();
    let take = options.limit.unwrap_or(usize::MAX);
    for q in questions.iter().take(take) {
        for mode in &options.modes {
            if let Some(outcome) = q.outcomes.iter().find(|o| &o.mode == mode) {
                answers.push(answer_one(model.as_ref(), q, &outcome.units, mode, options));
                progress();
            }
        }
    }
    QaResults {
        model: model.model().to_owned(),
        options: options.clone(),
        summary: summarise(&answers, &options.modes),
        answers,
        usage: model.usage(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(category: u8, answer: &str) -> QuestionOutcome {
        QuestionOutcome {
            sample_id: "conv-a".into(),
            index: 0,
            category,
            question: "Where did she go?".into(),
            answer: answer.into(),
            evidence: vec![],
            outcomes: vec![],
        }
    }

    #[test]
    fn prompts_follow_the_official_conventions() {
        let q = question(2, "May 2023");
        let p = answer_prompt(&q, "CTX");
        assert!(p.starts_with("CTX\n\nBased on the above context, write an answer"));
        assert!(p.ends_with("Question: Where did she go? Use DATE of CONVERSATION to answer with an approximate date. Short answer:"));
        let adversarial = question(5, "Paris");
        let p = answer_prompt(&adversarial, "CTX");
        assert!(p.contains("Select the correct answer: (a) "));
        assert!(p.contains(NOT_MENTIONED) && p.contains("Paris"));
        let [a, _] = options(&adversarial);
        assert_eq!(interpret(&adversarial, " (A) "), a);
        assert_eq!(interpret(&adversarial, "somewhere"), "somewhere");
        assert_eq!(interpret(&question(4, "x"), " b "), "b");
    }

    #[test]
    fn context_prefixes_dates_and_respects_the_budget() {
        let unit = |text: &str| RetrievedUnit {
            unit_id: 1,
            granularity: "turn".into(),
            session_id: "session_1".into(),
            event_time: "2023-05-08T13:56:00Z".into(),
            text: text.into(),
            turns: vec![],
            scores: Default::default(),
        };
        let units = [unit("Ann: hi"), unit(&"x".repeat(400))];
        let c = context(&units, 20);
        assert!(c.starts_with("1:56 pm on 8 May, 2023: Ann: hi\n\n1:56 pm on 8 May, 2023: xx"));
        assert!(budget::tokens(&c) <= 21);
    }

    #[test]
    fn judge_labels_are_read_strictly_then_leniently() {
        assert_eq!(parse_judge(r#"{"label": "CORRECT"}"#), Some(true));
        assert_eq!(parse_judge(r#"{"label": "wrong"}"#), Some(false));
        assert_eq!(parse_judge("The answer is CORRECT."), Some(true));
        assert_eq!(parse_judge("CORRECT or WRONG?"), None);
        assert_eq!(parse_judge(""), None);
    }
}
