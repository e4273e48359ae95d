//! The two link indexes never disagree, whatever the sequence of links, unlinks and snapshots.

use std::collections::{BTreeMap, BTreeSet};

use orange_ticket_bot::domain::{Conversation, Status, TicketId};
use orange_ticket_bot::store::Store;
use proptest::prelude::*;

use super::{conv, ticket, tid};

#[derive(Debug, Clone)]
enum Op {
    Link(u8, u8),
    Unlink(u8),
    Snapshot(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, 0u8..5).prop_map(|(c, t)| Op::Link(c, t)),
        (0u8..6).prop_map(Op::Unlink),
        (0u8..5).prop_map(Op::Snapshot),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_two_link_indexes_never_disagree(ops in prop::collection::vec(op(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        rt.block_on(async {
            let store = Store::open(dir.path()).expect("opens");
            let mut model: BTreeMap<Conversation, TicketId> = BTreeMap::new();
            for op in &ops {
                match op {
                    Op::Link(c, t) => {
                        let previous = store.link(&conv(*c), &tid(*t)).await.expect("link");
                        prop_assert_eq!(previous, model.insert(conv(*c), tid(*t)));
                    }
                    Op::Unlink(c) => {
                        let previous = store.unlink(&conv(*c)).await.expect("unlink");
                        prop_assert_eq!(previous, model.remove(&conv(*c)));
                    }
                    Op::Snapshot(t) => {
                        store.put_snapshot(&ticket(tid(*t), Status::Ongoing)).await.expect("snapshot");
                    }
                }
                let mut forward = store.links().await.expect("links");
                let mut backward = store.links_by_ticket().await.expect("links by ticket");
                forward.sort();
                backward.sort();
                prop_assert_eq!(&forward, &backward);
                let expected: Vec<_> = model.iter().map(|(c, t)| (c.clone(), t.clone())).collect();
                prop_assert_eq!(&forward, &expected);
                for (c, t) in &model {
                    prop_assert!(store.conversations_for(t).await.expect("reverse").contains(c));
                    prop_assert_eq!(store.ticket_for(c).expect("forward"), Some(t.clone()));
                }
                let tracked: BTreeSet<_> = model.values().cloned().collect();
                prop_assert_eq!(store.tracked_tickets().await.expect("tracked"), tracked.into_iter().collect::<Vec<_>>());
            }
            Ok(())
        })?;
    }
}
