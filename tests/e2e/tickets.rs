//! Ticket commands through the real bot, the fake Discord, the Orange sandbox and a sled store
//! on disk: create (slash + form → thread + pinned header card + link), the message command,
//! autocomplete, show, comment, search with paging buttons, link and unlink, and bad input.

use std::time::Duration;

use orange_ticket_bot::domain::{Conversation, TicketId};
use orange_ticket_bot::sandbox::{FaultConfig, Operation};
use serde_json::Value;

use crate::support::fake_discord::{CHANNEL_ID, FORUM_ID, InteractionPayload};
use crate::support::test_bot::{TestBot, ticket};

pub use crate::support::tickets::{Opened, ask_profile, create_form, open_ticket, set_profile};

fn field<'a>(embed: &'a Value, name: &str) -> &'a str {
    embed["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name} in {embed}"))
}

#[tokio::test]
async fn create_opens_the_ticket_a_thread_with_a_pinned_card_and_links_them() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let before = bot.sandbox().ticket_count();
    let opened = open_ticket(
        &bot,
        "Link down since 10:00 *again*",
        Duration::from_secs(5),
    )
    .await;
    assert!(opened.answer.is_ephemeral());
    assert_eq!(
        opened.answer.callback["type"], 5,
        "the form is deferred first"
    );

    // Orange has it, with the body the user gave.
    assert_eq!(bot.sandbox().ticket_count(), before + 1);
    let ticket = bot.sandbox().ticket(&opened.id).expect("in the sandbox");
    assert_eq!(
        ticket.description.as_deref(),
        Some("Link down since 10:00 *again*")
    );
    assert_eq!(ticket.service.expect("service").as_str(), "LD000000");
    assert_eq!(ticket.technical.expect("technical").as_str(), "LD000001");
    let reference = ticket.external_id.expect("a reference");
    assert!(
        reference.starts_with(&format!(
            "https://discord.com/channels/1100000000000000003/{CHANNEL_ID}#"
        )),
        "links back to the channel: {reference}"
    );

    // A public thread in the channel, named after the ticket.
    let threads = bot.fake.threads();
    assert_eq!(threads.len(), 1);
    let thread = &threads[0];
    assert_eq!(thread.id, opened.thread);
    assert_eq!(thread.kind, 11, "public");
    assert_eq!(thread.parent_id, Some(CHANNEL_ID));
    assert_eq!(
        thread.name,
        format!("{} · LD000000 · Link down since 10:00 *again*", opened.id)
    );

    // Its first message is the header card, pinned, with its buttons.
    let messages = bot.fake.messages_in(opened.thread);
    assert_eq!(messages.len(), 1);
    let card = &messages[0];
    assert!(card.pinned, "the header card is pinned");
    let embed = &card.embeds()[0];
    assert_eq!(embed["title"], format!("Ticket {} — Submitted", opened.id));
    assert_eq!(embed["description"], r"Link down since 10:00 \*again\*");
    assert_eq!(field(embed, "Service"), "LD000000");
    assert_eq!(field(embed, "Technical number"), "LD000001");
    assert!(
        embed["footer"]["text"]
            .as_str()
            .is_some_and(|f| f.starts_with("Last synced with Orange ")),
        "{embed}"
    );
    let buttons: Vec<(&str, &str)> = card.body["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .map(|b| {
            (
                b["label"].as_str().unwrap_or(""),
                b["custom_id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let id = opened.id.as_str();
    assert_eq!(
        buttons,
        [
            ("Refresh", format!("otb:refresh:{id}").as_str()),
            ("Add comment", format!("otb:comment:{id}").as_str()),
            ("Follow", format!("otb:follow:{id}").as_str()),
        ]
    );

    // The store links the thread to the ticket and remembers the card.
    let store = bot.core().store();
    let here = Conversation::discord(opened.thread);
    assert_eq!(
        store.ticket_for(&here).expect("read"),
        Some(opened.id.clone())
    );
    assert_eq!(store.card(&here).expect("read"), Some(card.id.to_string()));
    assert!(store.snapshot(&opened.id).expect("read").is_some());
    bot.shutdown().await;
}

#[tokio::test]
async fn create_defers_within_discords_window_although_orange_takes_2_5_s_a_call() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    bot.sandbox().set_faults(FaultConfig {
        latency_ms: 2500,
        ..FaultConfig::default()
    });
    let opened = open_ticket(&bot, "Slow Orange", Duration::from_secs(40)).await;
    let deferred_after = bot
        .fake
        .state()
        .interactions
        .values()
        .filter(|i| i.callback.as_ref().is_some_and(|c| c["type"] == 5))
        .filter_map(|i| i.callback_after)
        .max()
        .expect("a deferral");
    assert!(
        deferred_after < Duration::from_millis(500),
        "deferred after {deferred_after:?}"
    );
    assert!(bot.sandbox().ticket(&opened.id).is_some());
    assert_eq!(bot.fake.threads().len(), 1);
    bot.shutdown().await;
}

#[tokio::test]
async fn in_a_forum_the_ticket_becomes_a_post_whose_first_message_is_the_pinned_card() {
    let bot = TestBot::start_with(|s| s.discord.tickets_channel = Some(FORUM_ID)).await;
    set_profile(&bot).await;
    let opened = open_ticket(&bot, "Forum ticket", Duration::from_secs(5)).await;
    let thread = &bot.fake.threads()[0];
    assert_eq!(thread.parent_id, Some(FORUM_ID));
    let messages = bot.fake.messages_in(opened.thread);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].id, opened.thread, "the post's first message");
    assert!(messages[0].pinned);
    bot.shutdown().await;
}

#[tokio::test]
async fn autocomplete_answers_from_the_cache_without_calling_orange() {
    let bot = TestBot::start().await;
    let before = bot.orange_calls();
    let answer = bot
        .suggest(
            &InteractionPayload::autocomplete("ticket")
                .sub("create")
                .focused("service", ""),
        )
        .await;
    assert_eq!(answer["type"], 8);
    let choices = answer["data"]["choices"].as_array().expect("choices");
    assert!(!choices.is_empty() && choices.len() <= 25, "{answer}");
    assert_eq!(choices[0]["name"], "LD000000 — Name of the service");
    assert_eq!(choices[0]["value"], "LD000000");

    let answer = bot
        .suggest(
            &InteractionPayload::autocomplete("ticket")
                .sub("create")
                .option("service", "LD000000")
                .focused("technical", "LD"),
        )
        .await;
    assert_eq!(
        answer["data"]["choices"],
        serde_json::json!([{"name": "LD000001 (service LD000000)", "value": "LD000001"}]),
        "only the chosen service's technical numbers"
    );
    assert_eq!(bot.orange_calls(), before, "no Orange call");
    bot.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_private_answer_and_stores_nothing() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let tickets = bot.sandbox().ticket_count();

    let (_, unknown) = bot
        .ask(
            &ticket("create")
                .option("service", "LD999999")
                .option("technical", "LD000001"),
        )
        .await;
    assert_eq!(
        unknown.content(),
        "Unknown service number `LD999999`: `/ticket services` lists yours."
    );
    assert!(unknown.is_ephemeral());

    let (_, empty) = bot
        .ask(&InteractionPayload::modal_submit(
            "otb:form:create:LD000000:LD000001",
            &[("description", "   "), ("reference", "")],
        ))
        .await;
    assert_eq!(empty.content(), "The description is empty.");
    assert!(empty.is_ephemeral());

    let (_, bad_id) = bot.ask(&ticket("show").option("id", "12/34")).await;
    assert_eq!(
        bad_id.content(),
        "Ticket id `12/34` may only contain letters, digits, `-` and `_`."
    );

    let (_, long) = bot
        .ask(
            &ticket("comment")
                .option("text", "x".repeat(4001))
                .option("id", "1234567890"),
        )
        .await;
    // 4,000 characters reach Orange, of which "[Alice via discord] " takes 20.
    assert_eq!(
        long.content(),
        "The comment is too long (4001 characters; at most 3980)."
    );

    assert_eq!(bot.sandbox().ticket_count(), tickets, "no ticket opened");
    assert!(bot.fake.threads().is_empty(), "no thread");
    assert!(bot.core().store().links().await.expect("links").is_empty());
    assert_eq!(bot.sandbox().counters().calls(Operation::AddComment), 0);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_note_with_everyone_and_5000_characters_shows_without_a_ping_newest_notes_kept() {
    let bot = TestBot::start().await;
    let id = TicketId::parse("1234567890").expect("id");
    for i in 0..30 {
        bot.sandbox()
            .add_orange_note(&id, "Comments".into(), format!("old note {i}"))
            .expect("note");
    }
    let loud = format!("@everyone <@&1> {}", "y".repeat(5000));
    bot.sandbox()
        .add_orange_note(&id, "Inward customer comments".into(), loud)
        .expect("note");
    let (injected, answer) = bot.ask(&ticket("show").option("id", "1234567890")).await;
    let embed = &answer.embeds()[0];
    assert_eq!(embed["title"], "Ticket 1234567890 — Ongoing");
    let fields = embed["fields"].as_array().expect("fields");
    assert!(fields.len() <= 25);
    let last = fields.last().expect("a field");
    let value = last["value"].as_str().expect("value");
    assert!(
        value.starts_with(r"@everyone <@&1\> yyy"),
        "the newest note is kept, its markdown escaped: {value}"
    );
    assert_eq!(value.chars().count(), 1024, "cut to Discord's field limit");
    assert!(value.ends_with('…'));
    assert!(
        fields.iter().any(|f| f["name"] == "Earlier notes"),
        "older notes are counted, not shown"
    );
    // The answer was sent allowing no mention (the fake also fails any body that would ping).
    let edit = bot
        .fake
        .requests()
        .into_iter()
        .rfind(|r| {
            r.route == Some("PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
                && r.path.contains(&injected.token)
        })
        .expect("the edit");
    let body = edit.body.expect("a body");
    assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
    bot.shutdown().await;
}

#[tokio::test]
async fn comment_in_a_thread_goes_to_its_ticket_signed_by_the_user() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let opened = open_ticket(&bot, "Packet loss", Duration::from_secs(5)).await;
    let (_, answer) = bot
        .ask(
            &ticket("comment")
                .option("text", "Rebooted the CPE @here")
                .in_thread(opened.thread, CHANNEL_ID),
        )
        .await;
    assert_eq!(
        answer.content(),
        format!("Comment added to ticket {}.", opened.id)
    );
    let notes = bot.notes(&opened.id);
    assert!(
        notes
            .iter()
            .any(|n| n == "[Alice via discord] Rebooted the CPE @here"),
        "{notes:?}"
    );
    let (_, unlinked) = bot
        .ask(&ticket("comment").option("text", "where does this go?"))
        .await;
    assert_eq!(
        unlinked.content(),
        "This conversation is not linked to a ticket: give `id:` or use the ticket's thread."
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn search_pages_with_previous_and_next_buttons() {
    let bot = TestBot::start_with(|s| s.orange.search.page_size = 2).await;
    let (injected, first) = bot
        .ask(&ticket("search").option("sort", 0).option("order", 0))
        .await;
    let footer = first.embeds()[0]["footer"]["text"].as_str().unwrap_or("");
    assert!(footer.starts_with("page 1 of "), "{footer}");
    let title = first.embed_title().to_owned();
    assert!(
        title.starts_with("Search: ") && title.ends_with(" ticket(s)"),
        "{title}"
    );
    let buttons = first.body["components"][0]["components"].clone();
    assert_eq!(buttons[0]["label"], "Previous");
    assert_eq!(buttons[0]["disabled"], true);
    assert_eq!(buttons[1]["label"], "Next");
    assert_eq!(buttons[1]["disabled"], false);
    let next = buttons[1]["custom_id"].as_str().expect("custom id");
    assert!(
        next.starts_with("otb:page:") && next.ends_with(":2"),
        "{next}"
    );

    let message_id = bot.fake.state().interactions[&injected.id]
        .original_message
        .expect("the result message");
    let (_, second) = bot
        .ask(&InteractionPayload::button(next).on_message(bot.fake.message_json(message_id)))
        .await;
    assert_eq!(second.callback["type"], 6, "the page is edited in place");
    let footer = second.embeds()[0]["footer"]["text"].as_str().unwrap_or("");
    assert!(footer.starts_with("page 2 of "), "{footer}");
    assert_eq!(second.embed_title(), title, "the same search");
    assert_eq!(
        second.body["components"][0]["components"][0]["disabled"], false,
        "Previous works on page 2"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn link_in_a_channel_opens_a_thread_unlink_and_link_again_in_that_thread() {
    let bot = TestBot::start().await;
    let (_, linked) = bot.ask(&ticket("link").option("id", "1234567890")).await;
    let thread = bot.fake.threads()[0].id;
    assert_eq!(
        linked.content(),
        format!("Ticket 1234567890 is now linked to <#{thread}>.")
    );
    assert_eq!(bot.fake.threads()[0].name, "1234567890 · LD000000");
    let (_, unlinked) = bot
        .ask(&ticket("unlink").in_thread(thread, CHANNEL_ID))
        .await;
    assert_eq!(unlinked.content(), "Unlinked from ticket 1234567890.");
    assert!(bot.core().store().links().await.expect("links").is_empty());

    let (_, again) = bot
        .ask(
            &ticket("link")
                .option("id", "1234567890")
                .in_thread(thread, CHANNEL_ID),
        )
        .await;
    assert_eq!(
        again.content(),
        format!("Ticket 1234567890 is now linked to <#{thread}>.")
    );
    assert_eq!(bot.fake.threads().len(), 1, "no second thread");
    let cards: Vec<_> = bot
        .fake
        .messages_in(thread)
        .into_iter()
        .filter(|m| m.pinned)
        .collect();
    assert_eq!(cards.len(), 2, "a fresh card in the thread, pinned");
    bot.shutdown().await;
}

#[tokio::test]
async fn the_message_command_prefills_the_form_and_links_back_to_the_message() {
    const MESSAGE: u64 = 1_100_000_000_000_000_300;
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let injected = bot
        .fake
        .inject(
            &InteractionPayload::message_command("Open Orange ticket").target_message(
                MESSAGE,
                CHANNEL_ID,
                "BGP session to PoP 3 flapping @everyone",
            ),
        )
        .await;
    let modal = bot.fake.wait_for_callback(&injected).await;
    assert_eq!(modal["type"], 9);
    let inputs: Vec<(String, Value)> = modal["data"]["components"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let input = &row["components"][0];
            (
                input["custom_id"].as_str().unwrap_or("").to_owned(),
                input["value"].clone(),
            )
        })
        .collect();
    let link = format!("https://discord.com/channels/1100000000000000003/{CHANNEL_ID}/{MESSAGE}");
    assert_eq!(
        inputs,
        [
            ("service".to_owned(), Value::Null),
            ("technical".to_owned(), Value::Null),
            (
                "description".to_owned(),
                "BGP session to PoP 3 flapping @everyone".into()
            ),
            ("reference".to_owned(), link.clone().into()),
        ]
    );
    let (_, answer) = bot
        .ask(&InteractionPayload::modal_submit(
            modal["data"]["custom_id"].as_str().expect("id"),
            &[
                ("service", "LD000000"),
                ("technical", "LD000001"),
                ("description", "BGP session to PoP 3 flapping @everyone"),
                ("reference", &link),
            ],
        ))
        .await;
    let id = answer
        .content()
        .strip_prefix("Ticket ")
        .and_then(|r| r.split_once(' '))
        .map(|(id, _)| TicketId::parse(id).expect("id"))
        .expect("opened");
    let ticket = bot.sandbox().ticket(&id).expect("at Orange");
    assert_eq!(ticket.external_id.as_deref(), Some(link.as_str()));
    bot.shutdown().await;
}

#[tokio::test]
async fn ticket_ids_autocomplete_from_linked_and_recently_seen_tickets() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let opened = open_ticket(&bot, "Linked one", Duration::from_secs(5)).await;
    let (_, shown) = bot.ask(&ticket("show").option("id", "1234567890")).await;
    assert_eq!(shown.embed_title(), "Ticket 1234567890 — Ongoing");
    let calls = bot.orange_calls();
    let answer = bot
        .suggest(
            &InteractionPayload::autocomplete("ticket")
                .sub("show")
                .focused("id", ""),
        )
        .await;
    let values: Vec<&str> = answer["data"]["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .filter_map(|c| c["value"].as_str())
        .collect();
    assert_eq!(
        values,
        [opened.id.as_str(), "1234567890"],
        "linked first, then seen"
    );
    let answer = bot
        .suggest(
            &InteractionPayload::autocomplete("ticket")
                .sub("show")
                .focused("id", "#12345"),
        )
        .await;
    assert_eq!(
        answer["data"]["choices"],
        serde_json::json!([{"name": "1234567890", "value": "1234567890"}])
    );
    assert_eq!(bot.orange_calls(), calls, "no Orange call");
    bot.shutdown().await;
}

#[tokio::test]
async fn when_discord_refuses_the_thread_the_user_still_gets_the_new_id() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    bot.fake.fail_next(
        "POST /channels/{channel_id}/threads",
        crate::support::fake_discord::Fault::ServerError,
        1,
    );
    let custom_id = create_form(&bot).await;
    let (_, answer) = bot
        .ask(&InteractionPayload::modal_submit(
            &custom_id,
            &[("description", "No thread for me"), ("reference", "")],
        ))
        .await;
    let content = answer.content();
    let id = content
        .strip_prefix("Ticket ")
        .and_then(|r| r.split_once(' '))
        .map(|(id, _)| id.to_owned())
        .expect("the id is given");
    assert_eq!(
        content,
        format!("Ticket {id} opened, but it could not be linked here: use `/ticket link id:{id}`.")
    );
    let id = TicketId::parse(&id).expect("id");
    assert!(
        bot.sandbox().ticket(&id).is_some(),
        "the ticket exists at Orange"
    );
    assert!(bot.core().store().links().await.expect("links").is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn a_page_that_orange_fails_to_serve_leaves_the_results_and_says_why_beside_them() {
    let bot = TestBot::start_with(|s| s.orange.search.page_size = 2).await;
    let (injected, first) = bot.ask(&ticket("search")).await;
    let next = first.body["components"][0]["components"][1]["custom_id"]
        .as_str()
        .expect("Next")
        .to_owned();
    let message_id = bot.fake.state().interactions[&injected.id]
        .original_message
        .expect("the result message");
    let edits = bot.fake.state().messages[&message_id].edits;
    let mut faults = FaultConfig::default();
    faults.errors.insert(
        Operation::Search,
        orange_ticket_bot::sandbox::ErrorFault {
            rate: 1.0,
            statuses: vec![503],
            retry_after_secs: 0,
        },
    );
    bot.sandbox().set_faults(faults);
    let click = bot
        .fake
        .inject(&InteractionPayload::button(&next).on_message(bot.fake.message_json(message_id)))
        .await;
    let followup = bot
        .fake
        .wait_for("the follow-up", Duration::from_secs(10), |s| {
            s.messages
                .values()
                .find(|m| m.content().starts_with("Orange's API is unavailable"))
                .cloned()
        })
        .await;
    assert!(followup.is_ephemeral());
    assert_eq!(bot.fake.wait_for_callback(&click).await["type"], 6);
    let page = bot.fake.state().messages[&message_id].clone();
    assert_eq!(page.edits, edits, "the results stay as they were");
    assert_eq!(page.embeds(), first.embeds());
    bot.shutdown().await;
}

#[tokio::test]
async fn a_refused_answer_is_sent_again_as_its_sentence_so_the_new_id_is_never_lost() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    bot.fake.fail_next(
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        crate::support::fake_discord::Fault::ServerError,
        1,
    );
    let opened = open_ticket(&bot, "Answer me twice", Duration::from_secs(5)).await;
    assert!(opened.answer.embeds().is_empty(), "the sentence alone");
    assert!(bot.sandbox().ticket(&opened.id).is_some());
    bot.shutdown().await;
}

#[tokio::test]
async fn a_thread_whose_card_could_not_be_posted_is_still_the_tickets_home() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    bot.fake.fail_next(
        "POST /channels/{channel_id}/messages",
        crate::support::fake_discord::Fault::ServerError,
        1,
    );
    let opened = open_ticket(&bot, "Cardless", Duration::from_secs(5)).await;
    let here = Conversation::discord(opened.thread);
    let store = bot.core().store();
    assert_eq!(
        store.ticket_for(&here).expect("read"),
        Some(opened.id.clone())
    );
    assert_eq!(store.card(&here).expect("read"), None);
    assert!(bot.fake.messages_in(opened.thread).is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn served_from_the_embedded_sandbox_every_card_and_reply_says_so() {
    const LINE: &str = "-# Orange sandbox — not real tickets\n";
    // No Orange credentials: the app starts its embedded sandbox, as `run` does.
    let bot = TestBot::start_with(|s| {
        s.secrets.orange_client_id = None;
        s.secrets.orange_client_secret = None;
        s.sandbox.serve_discord = true;
        s.sandbox.embedded_auto_advance_secs = 0;
    })
    .await;
    assert_eq!(
        ask_profile(&bot).await.content(),
        format!("{LINE}Contact saved: Ada Lovelace (ada@example.net).")
    );

    let custom_id = create_form(&bot).await;
    let submit = bot
        .fake
        .inject(&InteractionPayload::modal_submit(
            &custom_id,
            &[("description", "Link down"), ("reference", "")],
        ))
        .await;
    let answer = bot.answer(&submit).await;
    let content = answer.content().to_owned();
    let (id, thread) = content
        .strip_prefix(&format!("{LINE}Ticket "))
        .and_then(|rest| rest.split_once(" opened in <#"))
        .and_then(|(id, rest)| Some((id.to_owned(), rest.strip_suffix(">.")?.to_owned())))
        .unwrap_or_else(|| panic!("not a labelled creation answer: {content}"));
    let thread: u64 = thread.parse().expect("a thread id");

    let footer = |embed: &Value| embed["footer"]["text"].as_str().unwrap_or("").to_owned();
    let card = &bot.fake.messages_in(thread)[0];
    let header = footer(&card.embeds()[0]);
    assert!(
        header.starts_with("Orange sandbox — not real tickets · Last synced with Orange "),
        "the thread's header card: {header}"
    );

    let (_, shown) = bot.ask(&ticket("show").option("id", id.as_str())).await;
    assert_eq!(
        shown.content(),
        LINE.trim_end(),
        "a card alone gets the line too"
    );
    let shown = footer(&shown.embeds()[0]);
    assert!(
        shown.starts_with("Orange sandbox — not real tickets · "),
        "the shown card: {shown}"
    );
    bot.shutdown().await;
}
