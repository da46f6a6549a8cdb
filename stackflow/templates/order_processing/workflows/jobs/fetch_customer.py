"""The fetch-customer job: looks up the customer of an order."""

from typing import Any

from stackflow import create_workflow_job


def _fetch(input: dict[str, Any]) -> dict[str, Any]:
    # Built from the input for now; once TailorDB lands this becomes a query:
    #   get_db("tailordb").select_from("Customer").select_all()
    #       .where("id", "=", input["customerId"]).execute_take_first()
    customer_id = input["customerId"]
    print(f"fetching customer {customer_id}")
    return {"id": customer_id, "email": f"{customer_id}@example.com"}


fetch_customer = create_workflow_job(name="fetch-customer", body=_fetch)
