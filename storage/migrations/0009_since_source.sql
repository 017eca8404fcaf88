-- Where customers.customer_since came from: 'crm' (the CRM's date, which visits never
-- change) or 'visit' (the local day of the earliest recorded visit, which a visit
-- reported later with an earlier date moves back).
ALTER TABLE customers ADD COLUMN since_source TEXT;

-- Only a CRM import writes external_id, so a date on a customer without one came from
-- visits. A CRM customer's date may have come from visits too, but cannot be told apart
-- from the CRM's own: it is kept as the CRM's, never overridden.
UPDATE customers SET since_source = 'visit'
WHERE customer_since IS NOT NULL AND external_id IS NULL;
UPDATE customers SET since_source = 'crm'
WHERE customer_since IS NOT NULL AND since_source IS NULL;

-- Visits reported out of order before now: the relationship starts at the earliest.
UPDATE customers SET
    customer_since = (SELECT MIN(v.day) FROM visits v WHERE v.customer_id = customers.id),
    since_md = SUBSTR((SELECT MIN(v.day) FROM visits v WHERE v.customer_id = customers.id), 6, 5)
WHERE since_source = 'visit'
AND customer_since > (SELECT MIN(v.day) FROM visits v WHERE v.customer_id = customers.id);

-- Visits merged in from another record of the same person, onto one without a date.
UPDATE customers SET
    customer_since = (SELECT MIN(v.day) FROM visits v WHERE v.customer_id = customers.id),
    since_md = SUBSTR((SELECT MIN(v.day) FROM visits v WHERE v.customer_id = customers.id), 6, 5),
    since_source = 'visit'
WHERE customer_since IS NULL AND forgotten_at IS NULL
AND EXISTS (SELECT 1 FROM visits v WHERE v.customer_id = customers.id);
