//! Every documented operation, and search filters, sorting and paging.

use super::*;

#[tokio::test]
async fn every_documented_operation_round_trips() {
    let env = Env::start().await;
    let client = env.client();

    let status = client.api_status(long()).await.expect("status");
    assert!(status.is_ok());
    assert_eq!(status.name.as_deref(), Some("API Ticketing WIN_BUS"));

    let services = client.service_numbers(long()).await.expect("services");
    assert!(services.len() >= 5);
    assert_eq!(services[0].number, sn("LD000000"));

    let id = client
        .create_ticket(&new_ticket("ref-round-trip"), long())
        .await
        .expect("create");
    let t = client.get_ticket(&id, long()).await.expect("get");
    assert_eq!(t.status, Status::Submitted);
    assert_eq!(t.description.as_deref(), Some("Link down since 10:00"));
    assert_eq!(t.external_id.as_deref(), Some("ref-round-trip"));
    assert_eq!(t.reported_by(), Some("Ada Lovelace"));
    assert_eq!(t.resolution_date, None);

    let comment = NewComment {
        service: sn("LD000000"),
        date: Utc::now(),
        text: "Rebooted the CPE".into(),
    };
    client
        .add_comment(&id, &comment, long())
        .await
        .expect("comment");
    let t = client.get_ticket(&id, long()).await.expect("get");
    let notes = t.notes.expect("notes");
    assert!(
        notes
            .iter()
            .any(|n| n.kind == NoteKind::Comments && n.text == "Rebooted the CPE"),
        "{notes:?}"
    );

    let page = client
        .search(
            &SearchQuery {
                id: Some(id.clone()),
                ..SearchQuery::default()
            },
            1,
            long(),
        )
        .await
        .expect("search");
    assert_eq!(page.tickets.len(), 1);
    assert_eq!(page.total_count, Some(1));
    assert_eq!(page.page_count, Some(1));

    let missing = client
        .get_ticket(&TicketId::parse("9999999999").expect("id"), long())
        .await
        .unwrap_err();
    assert!(
        matches!(missing, OrangeError::NotFound { .. }),
        "{missing:?}"
    );
    assert!(
        missing
            .request_id()
            .is_some_and(|r| r.starts_with("sandbox-"))
    );

    let rejected = client
        .create_ticket(
            &NewTicket {
                service: sn("LD999999"),
                ..new_ticket("ref-bad")
            },
            long(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(rejected, OrangeError::Rejected { status: 422, .. }),
        "{rejected:?}"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn search_honours_each_filter_sort_and_paging() {
    let env = Env::with(|s| s.orange.search.page_size = 4).await;
    let client = env.client();
    let all: Vec<_> = client
        .search_all(SearchQuery::default(), long())
        .try_collect()
        .await
        .expect("all pages");
    let total = all[0].total_count.expect("X-Total-Count") as usize;
    let pages = all[0].page_count.expect("X_Page_Count") as usize;
    assert!(total >= 12);
    assert_eq!(pages, total.div_ceil(4));
    assert_eq!(all.len(), pages, "the stream walked every page");
    let tickets: Vec<_> = all.iter().flat_map(|p| p.tickets.clone()).collect();
    assert_eq!(tickets.len(), total);
    let distinct: BTreeSet<_> = tickets.iter().map(|t| t.id.clone()).collect();
    assert_eq!(distinct.len(), total, "no ticket twice across pages");

    let everything = |q: SearchQuery| {
        let c = client.clone();
        async move {
            c.search_all(q, long())
                .try_collect::<Vec<_>>()
                .await
                .expect("search")
                .into_iter()
                .flat_map(|p| p.tickets)
                .collect::<Vec<_>>()
        }
    };

    for status in Status::KNOWN {
        let found = everything(SearchQuery {
            status: StatusFilter::Only(status.clone()),
            ..SearchQuery::default()
        })
        .await;
        let expected = tickets.iter().filter(|t| t.status == status).count();
        assert_eq!(found.len(), expected, "{status:?}");
        assert!(found.iter().all(|t| t.status == status));
    }

    let service = tickets[0].service.clone().expect("service");
    let found = everything(SearchQuery {
        service: Some(service.clone()),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(
        found.len(),
        tickets
            .iter()
            .filter(|t| t.service.as_ref() == Some(&service))
            .count()
    );

    let reporter = tickets[0].reported_by().expect("reporter").to_owned();
    let found = everything(SearchQuery {
        reported_by: Some(reporter.clone()),
        ..SearchQuery::default()
    })
    .await;
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|t| t.reported_by() == Some(reporter.as_str()))
    );

    let mut created: Vec<_> = tickets.iter().filter_map(|t| t.created).collect();
    created.sort();
    let middle = created[created.len() / 2];
    let found = everything(SearchQuery {
        created_from: Some(middle),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(
        found.len(),
        created.iter().filter(|c| **c >= middle).count()
    );
    let found = everything(SearchQuery {
        created_to: Some(middle),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(
        found.len(),
        created.iter().filter(|c| **c <= middle).count()
    );

    for column in SortColumn::ALL {
        for ascending in [true, false] {
            let found = everything(SearchQuery {
                sort: Some(column),
                ascending: Some(ascending),
                ..SearchQuery::default()
            })
            .await;
            assert_eq!(found.len(), total, "{column} {ascending}");
            if column == SortColumn::TicketNumber {
                let ids: Vec<_> = found.iter().map(|t| t.id.to_string()).collect();
                let mut sorted = ids.clone();
                sorted.sort();
                if !ascending {
                    sorted.reverse();
                }
                assert_eq!(ids, sorted, "ticket numbers {ascending}");
            }
            if column == SortColumn::StartDate {
                let dates: Vec<_> = found.iter().map(|t| t.created).collect();
                let mut sorted = dates.clone();
                sorted.sort();
                if !ascending {
                    sorted.reverse();
                }
                assert_eq!(dates, sorted, "start dates {ascending}");
            }
        }
    }
    env.sandbox.shutdown().await;
}
