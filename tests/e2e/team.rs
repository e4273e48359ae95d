//! Team commands through the real bot: the channel feed, the contact form, the team's settings,
//! and a role that is not allowed to open tickets.

use orange_ticket_bot::domain::Conversation;

use crate::support::fake_discord::{CHANNEL_ID, InteractionPayload};
use crate::support::test_bot::{TestBot, ticket};
use crate::tickets::set_profile;

const NOC_ROLE: u64 = 1_100_000_000_000_000_555;

#[tokio::test]
async fn follow_and_unfollow_are_for_administrators() {
    let bot = TestBot::start().await;
    let (_, denied) = bot
        .ask(&ticket("follow").option("services", "LD000000"))
        .await;
    assert_eq!(
        denied.content(),
        "Only team administrators may change the bot's settings here."
    );
    assert!(
        bot.core()
            .store()
            .subscriptions()
            .await
            .expect("read")
            .is_empty()
    );

    let (_, follow) = bot
        .ask(
            &ticket("follow")
                .option("services", "LD000000")
                .option("statuses", "ongoing, restored")
                .as_admin(),
        )
        .await;
    assert_eq!(
        follow.content(),
        "Following the ticket feed here (services: LD000000; statuses: ongoing, restored)."
    );
    let subscriptions = bot.core().store().subscriptions().await.expect("read");
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0].0, Conversation::discord(CHANNEL_ID));

    let (_, unfollow) = bot.ask(&ticket("unfollow").as_admin()).await;
    assert_eq!(
        unfollow.content(),
        "No longer following the ticket feed here."
    );
    let (_, again) = bot.ask(&ticket("unfollow").as_admin()).await;
    assert_eq!(
        again.content(),
        "This channel does not follow the ticket feed."
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn profile_without_options_is_a_form_prefilled_with_the_saved_contact() {
    let bot = TestBot::start().await;
    let (_, none) = bot
        .ask(
            &ticket("profile")
                .option("first_name", "Ada")
                .option("last_name", "Lovelace"),
        )
        .await;
    assert_eq!(
        none.content(),
        "Give an email or a phone number so Orange can reach you."
    );
    set_profile(&bot).await;
    let injected = bot.fake.inject(&ticket("profile")).await;
    let form = bot.fake.wait_for_callback(&injected).await;
    assert_eq!(form["type"], 9);
    assert_eq!(form["data"]["custom_id"], "otb:form:profile");
    let values: Vec<&str> = form["data"]["components"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["components"][0]["value"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(values, ["Ada", "Lovelace", "ada@example.net", ""]);
    let (_, saved) = bot
        .ask(&InteractionPayload::modal_submit(
            "otb:form:profile",
            &[
                ("first_name", "Ada"),
                ("last_name", "King"),
                ("email", ""),
                ("phone", "+44 20 7946 0000"),
            ],
        ))
        .await;
    assert_eq!(
        saved.content(),
        "Contact saved: Ada King (+44 20 7946 0000)."
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn config_sets_roles_and_a_denied_role_cannot_open_tickets() {
    let bot = TestBot::start().await;
    set_profile(&bot).await;
    let (_, denied) = bot
        .ask(
            &ticket("config")
                .option("permission", 0)
                .option("roles", format!("<@&{NOC_ROLE}>")),
        )
        .await;
    assert_eq!(
        denied.content(),
        "Only team administrators may change the bot's settings here."
    );
    let (_, set) = bot
        .ask(
            &ticket("config")
                .option("permission", 0)
                .option("roles", format!("<@&{NOC_ROLE}>"))
                .as_admin(),
        )
        .await;
    assert_eq!(set.embed_title(), "Team settings");
    let fields: Vec<(String, String)> = set.embeds()[0]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap_or("").to_owned(),
                f["value"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        fields[..4],
        [
            ("May create".to_owned(), format!("<@&{NOC_ROLE}>")),
            ("May comment".to_owned(), "everyone".to_owned()),
            ("May link".to_owned(), "everyone".to_owned()),
            ("May admin".to_owned(), "server managers".to_owned()),
        ]
    );

    let (_, refused) = bot
        .ask(
            &ticket("create")
                .option("service", "LD000000")
                .option("technical", "LD000001"),
        )
        .await;
    assert_eq!(
        refused.content(),
        format!("You need one of these roles to open tickets here: <@&{NOC_ROLE}>.")
    );
    assert!(refused.is_ephemeral());
    let (_, menu) = bot
        .ask(
            &InteractionPayload::message_command("Open Orange ticket").target_message(
                1_100_000_000_000_000_301,
                CHANNEL_ID,
                "down",
            ),
        )
        .await;
    assert_eq!(menu.content(), refused.content());

    // With the role, the same user may.
    let injected = bot
        .fake
        .inject(
            &ticket("create")
                .option("service", "LD000000")
                .option("technical", "LD000001")
                .with_roles(&[NOC_ROLE]),
        )
        .await;
    assert_eq!(bot.fake.wait_for_callback(&injected).await["type"], 9);
    assert!(bot.fake.threads().is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn config_feed_and_default_contact() {
    let bot = TestBot::start().await;
    let (_, no_profile) = bot
        .ask(&ticket("config").option("default_contact", 0).as_admin())
        .await;
    assert_eq!(
        no_profile.content(),
        "Set your own contact first with `/ticket profile`."
    );
    set_profile(&bot).await;
    let (_, contact) = bot
        .ask(&ticket("config").option("default_contact", 0).as_admin())
        .await;
    let (_, feed) = bot
        .ask(&ticket("config").option("feed", 0).as_admin())
        .await;
    let value = |answer: &crate::support::test_bot::Answer, name: &str| {
        answer.embeds()[0]["fields"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["name"] == name))
            .and_then(|f| f["value"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(
        value(&contact, "Default contact"),
        "Ada Lovelace (ada@example.net)"
    );
    assert_eq!(value(&feed, "Team feed"), format!("<#{CHANNEL_ID}>"));
    let (_, shown) = bot.ask(&ticket("config")).await;
    assert_eq!(value(&shown, "Team feed"), format!("<#{CHANNEL_ID}>"));
    bot.shutdown().await;
}

#[tokio::test]
async fn config_takes_one_setting_at_a_time_and_roles_need_a_permission() {
    let bot = TestBot::start().await;
    let (_, two) = bot
        .ask(
            &ticket("config")
                .option("permission", 1)
                .option("feed", 1)
                .as_admin(),
        )
        .await;
    assert_eq!(
        two.content(),
        "Change one setting at a time: permission (with roles), feed or default contact."
    );
    let (_, roles) = bot
        .ask(&ticket("config").option("roles", "<@&1>").as_admin())
        .await;
    assert_eq!(roles.content(), "`roles:` goes with `permission:`.");
    assert_eq!(
        bot.core()
            .store()
            .audit_log(10)
            .await
            .expect("audit")
            .iter()
            .filter(|a| a.action == "admin")
            .count(),
        0,
        "nothing changed"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn roles_are_mentions_or_ids_never_names() {
    let bot = TestBot::start().await;
    let (_, named) = bot
        .ask(
            &ticket("config")
                .option("permission", 0)
                .option("roles", "Support")
                .as_admin(),
        )
        .await;
    assert_eq!(
        named.content(),
        "`Support` is not a role: mention it (@role) or give its id."
    );
    assert!(
        bot.core()
            .store()
            .team_settings(&orange_ticket_bot::domain::TeamId(
                "discord:1100000000000000003".into()
            ))
            .expect("read")
            .allowed_roles
            .is_empty()
    );
    bot.shutdown().await;
}
