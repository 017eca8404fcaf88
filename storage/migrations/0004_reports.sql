-- Reports: a monthly tier over daily_rollups so that a year's report reads about
-- 12 x segments rows instead of 365 x (location x staff x touchpoint) rows. Same
-- counters as daily_rollups; month is 'YYYY-MM' of the business day. Rebuildable
-- from daily_rollups (storage.reports.refresh_monthly_rollups).

CREATE TABLE monthly_rollups (
    month TEXT NOT NULL,
    location TEXT NOT NULL,
    staff TEXT NOT NULL,
    touchpoint TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    promoters INTEGER NOT NULL DEFAULT 0,
    passives INTEGER NOT NULL DEFAULT 0,
    detractors INTEGER NOT NULL DEFAULT 0,
    ces_sum INTEGER NOT NULL DEFAULT 0,
    ces_count INTEGER NOT NULL DEFAULT 0,
    ces_easy INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, location, staff, touchpoint)
);
