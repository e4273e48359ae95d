//! The "Send to Orange" message command: in a ticket's thread, shows the person exactly what
//! Orange would receive, with Send and Cancel (`discord::send` handles the clicks). Nothing is
//! sent from here.

use std::sync::atomic::Ordering;

use poise::serenity_prelude as serenity;

use super::{answer_now, turn};
use crate::core::MessageToSend;
use crate::discord::actor::Refusal;
use crate::discord::respond::Interaction;
use crate::discord::{CommandError, Context, send};
use crate::render::{self, Reply};

/// Send this message to the thread's Orange ticket as a comment (you confirm first)
#[poise::command(context_menu_command = "Send to Orange")]
pub async fn send_to_orange(
    ctx: Context<'_>,
    message: serenity::Message,
) -> Result<(), CommandError> {
    let (app, actor) = turn(ctx)?;
    let data = ctx.data();
    let Some(guild) = app.interaction.guild_id else {
        return Err(CommandError::Refused(Refusal::DirectMessage));
    };
    let author = message
        .member
        .as_ref()
        .and_then(|m| m.nick.clone())
        .unwrap_or_else(|| message.author.display_name().to_owned());
    let to_send = MessageToSend {
        author,
        text: message.content.clone(),
        link: format!(
            "https://discord.com/channels/{guild}/{}/{}",
            message.channel_id, message.id
        ),
    };
    let preview = match data.core.prepare_send(&actor, &to_send).await {
        Ok(preview) => preview,
        Err(e) => return answer_now(ctx, &Reply::text(e.user_message())).await,
    };
    Interaction::Command(app.interaction)
        .answer_ephemeral_with(
            ctx.http(),
            data.banner(),
            &render::send::confirmation(&preview),
            send::buttons(&preview),
        )
        .await?;
    app.has_sent_initial_response.store(true, Ordering::SeqCst);
    Ok(())
}
