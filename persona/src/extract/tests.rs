use super::*;
use memory::persona::StatementKind;

fn turn(id: i64, speaker: &str, text: &str) -> TurnInput {
    TurnInput {
        turn_id: TurnId(id),
        speaker: speaker.to_owned(),
        text: text.to_owned(),
        time: Timestamp(1_000 + id),
    }
}

fn one(speaker: &str, text: &str) -> Vec<Candidate> {
    extract(&[turn(1, speaker, text)])
}

fn slots(candidates: &[Candidate]) -> Vec<(&str, &str)> {
    candidates
        .iter()
        .map(|c| (c.slot.as_str(), c.value.as_str()))
        .collect()
}

#[test]
fn attributes_statements_to_the_turn_speaker() {
    let turns = [
        turn(1, "Maya", "I adopted a rescue greyhound named Pepper!"),
        turn(2, "Theo", "My sister lives in Lisbon."),
        turn(3, "Theo", "Do you like dogs?"),
    ];
    let out = extract(&turns);
    assert_eq!(out.len(), 2, "{out:#?}");
    assert_eq!(out[0].speaker, "Maya");
    assert_eq!(out[0].kind, StatementKind::LifeFact);
    assert_eq!(
        (out[0].slot.as_str(), out[0].value.as_str()),
        ("pet:dog", "pepper")
    );
    assert_eq!(out[0].text, "Maya adopted a rescue greyhound named Pepper.");
    assert_eq!(out[0].turns, vec![TurnId(1)]);
    assert_eq!(out[0].time, Timestamp(1_001));
    assert_eq!(out[1].speaker, "Theo");
    assert_eq!(out[1].kind, StatementKind::Relationship);
    assert_eq!(out[1].slot, "relation:sister:lives_in");
    assert_eq!(out[1].value, "lisbon");
    assert_eq!(out[1].text, "Theo's sister lives in Lisbon.");
}

#[test]
fn rewrites_in_the_third_person() {
    let cases = [
        ("I'm a counselor.", "Maya is a counselor."),
        (
            "I've been painting lately.",
            "Maya has been painting lately.",
        ),
        (
            "I love hiking with my dog",
            "Maya loves hiking with their dog.",
        ),
        ("I just adopted a puppy!", "Maya just adopted a puppy."),
        (
            "I'm going to a pride parade next week!",
            "Maya is going to a pride parade next week.",
        ),
        (
            "I can't stand horror movies.",
            "Maya can't stand horror movies.",
        ),
        (
            "I want to become a counselor.",
            "Maya wants to become a counselor.",
        ),
        ("I watch birds with my dad and it relaxes me.", ""),
    ];
    for (input, want) in cases {
        let out = one("Maya", input);
        match out.first() {
            Some(c) => assert_eq!(c.text, want, "{input}"),
            None => assert!(want.is_empty(), "{input}: nothing extracted"),
        }
        if want.is_empty() {
            assert!(out.is_empty(), "{input}: {out:#?}");
        }
    }
    assert_eq!(
        rewrite(&sentence_words("I go running and I have a cat"), "Theo"),
        "Theo goes running and they have a cat."
    );
    assert_eq!(
        rewrite(&sentence_words("my mom taught me to cook"), "Theo"),
        "Theo's mom taught them to cook."
    );
}

fn sentence_words(text: &str) -> Vec<Word> {
    text.split_whitespace().map(Word::new).collect()
}

#[test]
fn reads_the_main_patterns() {
    let cases: &[(&str, StatementKind, &str, &str)] = &[
        (
            "I got a new job at the bakery!",
            StatementKind::LifeFact,
            "employer",
            "bakery",
        ),
        (
            "Oh, I'm from Sweden originally.",
            StatementKind::LifeFact,
            "from",
            "sweden",
        ),
        (
            "My dog Max loves the park.",
            StatementKind::LifeFact,
            "pet:dog",
            "max",
        ),
        (
            "My family and I love going on road trips.",
            StatementKind::Preference,
            "likes:going road trips",
            "like",
        ),
        (
            "I'm going to the gym later.",
            StatementKind::Plan,
            "plan:go to gym",
            "go to gym",
        ),
        (
            "I'm planning a camping trip this summer.",
            StatementKind::Plan,
            "plan:camping trip",
            "camping trip",
        ),
        (
            "I love Italian food.",
            StatementKind::Preference,
            "likes:italian food",
            "like",
        ),
        (
            "I hate Italian food.",
            StatementKind::Preference,
            "likes:italian food",
            "dislike",
        ),
        (
            "I'm a big fan of jazz.",
            StatementKind::Preference,
            "likes:jazz",
            "like",
        ),
        (
            "Yeah, I work as a nurse at the hospital.",
            StatementKind::LifeFact,
            "job",
            "nurse",
        ),
        (
            "I work at Google now.",
            StatementKind::LifeFact,
            "employer",
            "google",
        ),
        (
            "I live in New York City with two roommates.",
            StatementKind::LifeFact,
            "lives_in",
            "new york city",
        ),
        (
            "I moved to Porto last year.",
            StatementKind::LifeFact,
            "lives_in",
            "porto",
        ),
        (
            "I'm moving to Berlin in May.",
            StatementKind::LifeFact,
            "lives_in",
            "berlin",
        ),
        (
            "I have a cat named Luna.",
            StatementKind::LifeFact,
            "pet:cat",
            "luna",
        ),
        (
            "My husband John is a chef.",
            StatementKind::Relationship,
            "relation:husband",
            "john",
        ),
        (
            "My brother works as an engineer.",
            StatementKind::Relationship,
            "relation:brother:job",
            "engineer",
        ),
        (
            "I'm training for a marathon.",
            StatementKind::Plan,
            "plan:training marathon",
            "training marathon",
        ),
        (
            "I'm always up for an adventure.",
            StatementKind::Trait,
            "trait:always up adventure",
            "up adventure",
        ),
        (
            "I am very introverted.",
            StatementKind::Trait,
            "trait:introverted",
            "introverted",
        ),
        (
            "I started learning the guitar last month.",
            StatementKind::LifeFact,
            "activity:learning guitar",
            "learning guitar",
        ),
        (
            "My favorite band is Queen.",
            StatementKind::Preference,
            "favorite:band",
            "queen",
        ),
    ];
    for &(input, kind, slot, value) in cases {
        let out = one("Maya", input);
        assert_eq!(out.len(), 1, "{input}: {out:#?}");
        assert_eq!(
            (out[0].kind, out[0].slot.as_str(), out[0].value.as_str()),
            (kind, slot, value),
            "{input}"
        );
        assert!(out[0].confidence > 0.0 && out[0].confidence <= 1.0);
    }
}

#[test]
fn skips_questions_addressee_hypotheticals_and_small_talk() {
    let skipped = [
        "Do you like dogs?",
        "I love hiking, do you?",
        "You love hiking.",
        "Your sister lives in Lisbon.",
        "I love your painting!",
        "If I moved to Paris I would love it.",
        "I'd love to go to Japan someday.",
        "I wish I had a dog.",
        "I'm good",
        "I am so happy for you",
        "I think so",
        "I love that!",
        "I love it when we talk.",
        "I'm a bit tired today.",
        "I'm going to say no.",
        "Theo loves hiking.",
        "When I was a kid I lived in Ohio.",
        "My friends have been so supportive.",
        "I've got a lot on my plate.",
        "I'm in Boston this week.",
        "I love the way you paint.",
        "I have been feeling down lately.",
    ];
    for input in skipped {
        let out = one("Maya", input);
        assert!(out.is_empty(), "{input}: {out:#?}");
    }
}

#[test]
fn reads_several_clauses_of_one_turn() {
    let out = one(
        "Maya",
        "Hey Theo! Good to see you. I love hiking with my dog, and I'm training for a marathon. What about you?",
    );
    assert_eq!(
        slots(&out),
        vec![
            ("likes:hiking", "like"),
            ("plan:training marathon", "training marathon")
        ]
    );
    assert_eq!(out[1].text, "Maya is training for a marathon.");
}

#[test]
fn reports_a_statement_once_per_turn() {
    let out = one("Maya", "I love jazz. I really love jazz!");
    assert_eq!(out.len(), 1);
    let out = extract(&[
        turn(1, "Maya", "I love jazz."),
        turn(2, "Maya", "I love jazz."),
    ]);
    assert_eq!(out.len(), 2);
}
