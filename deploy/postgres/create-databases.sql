-- Run once by the postgres image, on its first start with an empty data volume:
-- one database per service, since no service reads another's tables.
CREATE DATABASE panel;
CREATE DATABASE surveys;
CREATE DATABASE feedback;
