//! Opening tickets as a user does, through the fake Discord: the contact first, then
//! `/ticket create` and its form. Shared by the e2e and security targets.

use std::time::Duration;

use orange_ticket_bot::domain::TicketId;

use super::fake_discord::InteractionPayload;
use super::test_bot::{Answer, TestBot, ticket};

/// Sets the fake user's contact (Orange needs one on every ticket).
pub async fn set_profile(bot: &TestBot) {
    assert_eq!(
        ask_profile(bot).await.content(),
        "Contact saved: Ada Lovelace (ada@example.net)."
    );
}

/// `/ticket profile` with Ada's contact; the answer.
pub async fn ask_profile(bot: &TestBot) -> Answer {
    let (_, answer) = bot
        .ask(
            &ticket("profile")
                .option("first_name", "Ada")
                .option("last_name", "Lovelace")
                .option("email", "ada@example.net"),
        )
        .await;
    answer
}

/// A ticket opened through `/ticket create` and its form.
#[derive(Debug)]
pub struct Opened {
    pub id: TicketId,
    pub thread: u64,
    pub answer: Answer,
}

/// `/ticket create` on the documented service; returns the form's custom id.
pub async fn create_form(bot: &TestBot) -> String {
    let slash = bot
        .fake
        .inject(
            &ticket("create")
                .option("service", "LD000000")
                .option("technical", "LD000001"),
        )
        .await;
    let modal = bot.fake.wait_for_callback(&slash).await;
    assert_eq!(modal["type"], 9, "a form: {modal}");
    let custom_id = modal["data"]["custom_id"].as_str().expect("custom id");
    assert_eq!(custom_id, "otb:form:create:LD000000:LD000001");
    custom_id.to_owned()
}

/// `/ticket create` on the documented service, then the form; returns the new ticket and thread.
pub async fn open_ticket(bot: &TestBot, description: &str, within: Duration) -> Opened {
    let custom_id = create_form(bot).await;
    let submit = bot
        .fake
        .inject(&InteractionPayload::modal_submit(
            &custom_id,
            &[("description", description), ("reference", "")],
        ))
        .await;
    let answer = bot.answer_within(&submit, within).await;
    let content = answer.content().to_owned();
    let (id, thread) = content
        .strip_prefix("Ticket ")
        .and_then(|rest| rest.split_once(" opened in <#"))
        .and_then(|(id, rest)| Some((id, rest.strip_suffix(">.")?)))
        .unwrap_or_else(|| panic!("not a creation answer: {content}"));
    Opened {
        id: TicketId::parse(id).expect("a ticket id"),
        thread: thread.parse().expect("a thread id"),
        answer,
    }
}
