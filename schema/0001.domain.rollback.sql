DROP TABLE items;
DROP TABLE wheel_pages;
DROP TABLE labels;
DROP TABLE activity_groups;
DROP TABLE wheel_rings;
DROP TABLE year_wheels;
DROP TABLE users;
