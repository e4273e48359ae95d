//! Search: every filter, every sort column both ways, paging and its count headers.

use std::collections::BTreeSet;

use orange_ticket_bot::domain::{Status, Ticket};
use orange_ticket_bot::orange::convert::parse_search_body;
use orange_ticket_bot::orange::quirks::format_date;

use crate::harness::{Answer, Env};

#[tokio::test]
async fn search_pages_carry_both_count_headers_and_no_notes() {
    let env = Env::start().await;
    let total = env.control().ticket_count();
    assert!(total >= 12);
    let mut seen = BTreeSet::new();
    let pages = total.div_ceil(5);
    for page in 1..=pages + 1 {
        let a = env.search(&format!("pageSize=5&page={page}")).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("X_Page_Count"), Some(pages.to_string().as_str()));
        assert_eq!(a.header("X-Total-Count"), Some(total.to_string().as_str()));
        let raw = a.json();
        let tickets = raw["search"]["tickets"].as_array().expect("tickets");
        assert!(
            tickets.iter().all(|t| t.get("note").is_none()),
            "search has no notes"
        );
        let expected = if page <= pages {
            (total - (page - 1) * 5).min(5)
        } else {
            0
        };
        assert_eq!(tickets.len(), expected, "page {page}");
        for t in parse_search_body(&a.body).expect("a page").tickets {
            assert!(t.notes.is_none());
            assert!(seen.insert(t.id), "no ticket on two pages");
        }
    }
    assert_eq!(seen.len(), total);
    // Without paging parameters: the configured default page size.
    let a = env.search("").await;
    assert_eq!(a.header("X-Total-Count"), Some(total.to_string().as_str()));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_filters_by_every_criterion() {
    let env = Env::start().await;
    let all = env.all_tickets().await;
    let ids = |a: Answer| -> BTreeSet<String> {
        parse_search_body(&a.body)
            .expect("a page")
            .tickets
            .into_iter()
            .map(|t| t.id.to_string())
            .collect()
    };
    let expect = |pred: &dyn Fn(&Ticket) -> bool| -> BTreeSet<String> {
        all.iter()
            .filter(|t| pred(t))
            .map(|t| t.id.to_string())
            .collect()
    };

    for status in Status::KNOWN {
        let found = ids(env
            .search(&format!("pageSize=100&status={}", status.as_wire()))
            .await);
        assert!(!found.is_empty(), "the seed has a {status:?} ticket");
        assert_eq!(found, expect(&|t| t.status == status), "{status:?}");
    }
    assert_eq!(
        ids(env.search("pageSize=100&status=-1").await).len(),
        all.len()
    );

    let service = all[0].service.clone().expect("a service");
    assert_eq!(
        ids(env
            .search(&format!("pageSize=100&orangeServiceNumber={service}"))
            .await),
        expect(&|t| t.service.as_ref() == Some(&service))
    );

    let reporter = all[0].reported_by().expect("a reporter").to_owned();
    let found = ids(env
        .search(&format!(
            "pageSize=100&reportedBy={}",
            reporter.replace(' ', "%20")
        ))
        .await);
    assert_eq!(
        found,
        expect(&|t| t.reported_by() == Some(reporter.as_str()))
    );
    assert!(!found.is_empty());

    let id = all[3].id.to_string();
    assert_eq!(
        ids(env.search(&format!("id={id}")).await),
        BTreeSet::from([id])
    );
    assert!(ids(env.search("id=0000000001").await).is_empty());

    let mut dates: Vec<_> = all.iter().filter_map(|t| t.created).collect();
    dates.sort();
    let (from, to) = (dates[2], dates[dates.len() - 3]);
    let q = format!(
        "pageSize=100&creationDateFrom={}&creationDateTo={}",
        format_date(&from),
        format_date(&to)
    );
    let found = ids(env.search(&q).await);
    assert_eq!(
        found,
        expect(&|t| t.created.is_some_and(|c| c >= from && c <= to))
    );
    assert_eq!(found.len(), dates.len() - 4, "both bounds are inclusive");

    let combined = format!(
        "pageSize=100&orangeServiceNumber={service}&status={}",
        all[0].status.as_wire()
    );
    assert_eq!(
        ids(env.search(&combined).await),
        expect(&|t| t.service.as_ref() == Some(&service) && t.status == all[0].status)
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_sorts_on_every_column_both_ways() {
    let env = Env::start().await;
    let key = |column: &str, t: &Ticket| -> Option<String> {
        match column {
            "TICKET_NUMBER" => Some(t.id.to_string()),
            "ORANGE_SERVICE_NUMBER" => t.service.as_ref().map(|s| s.to_string()),
            "STATUS" => Some(t.status.as_wire().to_owned()),
            "START_DATE" => t.created.as_ref().map(format_date),
            "CUSTOMER_REF" => t.external_id.clone(),
            "REPORTED_BY" => t.reported_by().map(str::to_owned),
            other => panic!("{other}"),
        }
    };
    for column in [
        "TICKET_NUMBER",
        "ORANGE_SERVICE_NUMBER",
        "STATUS",
        "START_DATE",
        "CUSTOMER_REF",
        "REPORTED_BY",
    ] {
        for ascending in [true, false] {
            let a = env
                .search(&format!(
                    "pageSize=100&sortColumn={column}&sortAsc={ascending}"
                ))
                .await;
            assert_eq!(a.status, 200, "{}", a.body);
            let keys: Vec<_> = parse_search_body(&a.body)
                .expect("a page")
                .tickets
                .iter()
                .map(|t| key(column, t))
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if !ascending {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "{column} ascending={ascending}");
            let distinct: BTreeSet<_> = keys.iter().collect();
            assert!(distinct.len() > 1, "{column} sorts something");
        }
    }
    env.sandbox.shutdown().await;
}
