# sql_tutorial.py -- the SQL Expression Language tutorial (SQLAlchemy docs
# 3.1.4-3.1.17) run on SQLAlchemy 1.4 to produce the output sql_tutorial.lua
# must print.  Regenerate the expected output with:
#   /usr/bin/python3 scripts/tutorial/sql_tutorial.py > scripts/tutorial/sql_tutorial.expected
#
# SQL is printed with each run of white space as one space and with IN
# lists expanded to one bind per element (the form retort renders).
import re
import warnings

from sqlalchemy import (Column, ForeignKey, Integer, MetaData, String, Table,
                        and_, bindparam, column, create_engine, desc, except_,
                        exists, func, literal_column, not_, or_, select, table,
                        text, union)
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql import LABEL_STYLE_TABLENAME_PLUS_COL

# replace_selectable() is deprecated in 1.4; the tutorial still shows it
warnings.filterwarnings("ignore", "The Selectable.replace_selectable")
# the tutorial shows cartesian products on purpose
warnings.filterwarnings("ignore", "SELECT statement has a cartesian product")


def sql(stmt, **kw):
    if kw:
        s = str(stmt.compile(**kw))
    else:
        s = str(stmt.compile(compile_kwargs={"render_postcompile": True}))
    return re.sub(r"\s+", " ", s).strip()


def show(label, value):
    print("%s: %s" % (label, value))


def show_sql(label, stmt, **kw):
    print("%s: %s" % (label, sql(stmt, **kw)))


def show_params(label, stmt):
    params = stmt.compile().params
    print("%s: %s" % (label, ", ".join(
        "%s=%r" % (k, params[k]) for k in sorted(params))))


def show_rows(label, rows):
    print("%s: [%s]" % (label, ", ".join(repr(tuple(r)) for r in rows)))


def run(label, conn, stmt, params=None):
    show_sql(label + " sql", stmt)
    if params is None:
        result = conn.execute(stmt)
    else:
        result = conn.execute(stmt, params)
    show_rows(label + " rows", result.fetchall())


# 3.1.3 - 3.1.4
engine = create_engine("sqlite://", future=True)
metadata = MetaData()
users = Table("users", metadata,
              Column("id", Integer, primary_key=True),
              Column("name", String(50)),
              Column("fullname", String(50)))
addresses = Table("addresses", metadata,
                  Column("id", Integer, primary_key=True),
                  Column("user_id", None, ForeignKey("users.id")),
                  Column("email_address", String(50), nullable=False))
metadata.drop_all(engine)
metadata.create_all(engine)
show("3.1.4 tables", ", ".join(t.name for t in metadata.sorted_tables))
show_sql("3.1.4 create users", CreateTable(users))
show_sql("3.1.4 create addresses", CreateTable(addresses))

# 3.1.5 Insert Expressions
ins = users.insert()
show_sql("3.1.5 insert", ins)
ins = users.insert().values(name="jack", fullname="Jack Jones")
show_sql("3.1.5 insert values", ins)
show_params("3.1.5 params", ins)

# 3.1.6 Executing
conn = engine.connect()
result = conn.execute(ins)
show("3.1.6 inserted_primary_key", result.inserted_primary_key)
show("3.1.6 rowcount", result.rowcount)
show_sql("3.1.6 sqlite", ins, dialect=engine.dialect)

# 3.1.7 Executing Multiple Statements
ins = users.insert()
result = conn.execute(ins, {"id": 2, "name": "wendy",
                            "fullname": "Wendy Williams"})
show("3.1.7 inserted_primary_key", result.inserted_primary_key)
if engine.dialect.name == "postgresql":
    # an explicit id does not move PostgreSQL's sequence on
    conn.exec_driver_sql("SELECT setval('users_id_seq', 2)")
result = conn.execute(addresses.insert(), [
    {"user_id": 1, "email_address": "jack@yahoo.com"},
    {"user_id": 1, "email_address": "jack@msn.com"},
    {"user_id": 2, "email_address": "www@www.org"},
    {"user_id": 2, "email_address": "wendy@aol.com"},
])
show("3.1.7 executemany rowcount", result.rowcount)

# 3.1.8: the connectionless forms are gone; the same rows, on conn
result = conn.execute(users.insert(), {"name": "fred",
                                       "fullname": "Fred Flintstone"})
show("3.1.8 inserted_primary_key", result.inserted_primary_key)
result = conn.execute(users.insert().values(name="mary",
                                            fullname="Mary Contrary"))
show("3.1.8 inserted_primary_key", result.inserted_primary_key)
conn.commit()

# 3.1.9 Selecting
s = select(users)
show_sql("3.1.9 select", s)
for row in conn.execute(s):
    print(row)
result = conn.execute(s)
row = result.fetchone()
print("name:", row.name, "; fullname:", row.fullname)
row = result.fetchone()
print("name:", row[1], "; fullname:", row[2])
result.close()
for row in conn.execute(s):
    m = row._mapping
    print("name:", m[users.c.name], "; fullname:", m[users.c.fullname])
run("3.1.9 columns", conn, select(users.c.name, users.c.fullname))
result = conn.execute(select(users.c.name, users.c.fullname))
show("3.1.9 keys", list(result.keys()))
result.close()
run("3.1.9 cartesian", conn, select(users, addresses))
run("3.1.9 where", conn,
    select(users, addresses).where(users.c.id == addresses.c.user_id))
show_sql("3.1.9 expression", users.c.id == addresses.c.user_id)

# 3.1.10 Operators
show_sql("3.1.10 eq columns", users.c.id == addresses.c.user_id)
show_sql("3.1.10 eq literal", users.c.id == 7)
show_params("3.1.10 params", users.c.id == 7)
show_sql("3.1.10 ne", users.c.id != 7)
show_sql("3.1.10 is null", users.c.name == None)  # noqa: E711
show_sql("3.1.10 is not null", users.c.name != None)  # noqa: E711
show_sql("3.1.10 reverse", "fred" > users.c.name)
show_sql("3.1.10 add", users.c.id + addresses.c.id)
show_sql("3.1.10 concat", users.c.name + users.c.fullname)
show_sql("3.1.10 concat mysql", users.c.name + users.c.fullname,
         dialect=mysql.dialect())
show_sql("3.1.10 op", users.c.name.op("tiddlywinks")("foo"))
show_sql("3.1.10 bitwise", users.c.id.op("&")(0xff))
show_sql("3.1.10 like", users.c.name.like("j%"))
show_sql("3.1.10 not like", users.c.name.not_like("j%"))
show_sql("3.1.10 ilike", users.c.name.ilike("j%"))
show_sql("3.1.10 in", users.c.name.in_(["jack", "wendy"]))
show_sql("3.1.10 not in", users.c.name.not_in(["jack", "wendy"]))
show_sql("3.1.10 between", users.c.id.between(1, 3))
show_sql("3.1.10 startswith", users.c.name.startswith("j"))
show_sql("3.1.10 contains", users.c.name.contains("ac"))
show_sql("3.1.10 neg", -users.c.id)
show_sql("3.1.10 arith", (users.c.id * 2 - 1) / 3)
run("3.1.10 in rows", conn,
    select(users.c.name).where(users.c.name.in_(["jack", "wendy", "nobody"]))
    .order_by(users.c.name))

# 3.1.11 Conjunctions
show_sql("3.1.11 and_", and_(
    users.c.name.like("j%"), users.c.id == addresses.c.user_id,
    or_(addresses.c.email_address == "wendy@aol.com",
        addresses.c.email_address == "jack@yahoo.com"),
    not_(users.c.id > 5)))
show_sql("3.1.11 operators",
         users.c.name.like("j%") & (users.c.id == addresses.c.user_id) &
         ((addresses.c.email_address == "wendy@aol.com") |
          (addresses.c.email_address == "jack@yahoo.com"))
         & ~(users.c.id > 5))
s = select((users.c.fullname + ", " + addresses.c.email_address)
           .label("title")).where(and_(
               users.c.id == addresses.c.user_id,
               users.c.name.between("m", "z"),
               or_(addresses.c.email_address.like("%@aol.com"),
                   addresses.c.email_address.like("%@msn.com"))))
run("3.1.11 select", conn, s)
s = select((users.c.fullname + ", " + addresses.c.email_address)
           .label("title")).where(
               users.c.id == addresses.c.user_id).where(
               users.c.name.between("m", "z")).where(
               or_(addresses.c.email_address.like("%@aol.com"),
                   addresses.c.email_address.like("%@msn.com")))
run("3.1.11 where chain", conn, s)

# 3.1.12 Using Text
s = text("SELECT users.fullname || ', ' || addresses.email_address AS title "
         "FROM users, addresses "
         "WHERE users.id = addresses.user_id "
         "AND users.name BETWEEN :x AND :y "
         "AND (addresses.email_address LIKE :e1 "
         "OR addresses.email_address LIKE :e2)")
run("3.1.12 text", conn, s,
    {"x": "m", "y": "z", "e1": "%@aol.com", "e2": "%@msn.com"})
stmt = text("SELECT * FROM users WHERE users.name BETWEEN :x AND :y")
stmt = stmt.bindparams(x="m", y="z")
run("3.1.12 bindparams", conn, stmt)
stmt = text("SELECT id, name FROM users").columns(users.c.id, users.c.name)
result = conn.execute(stmt)
show("3.1.12 columns keys", list(result.keys()))
for row in result:
    print(row.id, row.name)
stmt = text("SELECT users.id, addresses.id, users.id, "
            "users.name, addresses.email_address AS email "
            "FROM users JOIN addresses ON users.id=addresses.user_id "
            "WHERE users.id = 1").columns(
                users.c.id, addresses.c.id, addresses.c.user_id,
                users.c.name, addresses.c.email_address)
result = conn.execute(stmt)
for row in result:
    m = row._mapping
    print(m[users.c.name], m[addresses.c.email_address])
s = select(text("users.fullname || ', ' || addresses.email_address AS title")
           ).where(and_(
               text("users.id = addresses.user_id"),
               text("users.name BETWEEN 'm' AND 'z'"),
               text("(addresses.email_address LIKE :x "
                    "OR addresses.email_address LIKE :y)"))
           ).select_from(text("users, addresses"))
run("3.1.12 select text", conn, s, {"x": "%@aol.com", "y": "%@msn.com"})
s = select(
    (literal_column("users.fullname", String) + ", " +
     literal_column("addresses.email_address")).label("title")
).where(and_(
    literal_column("users.id") == literal_column("addresses.user_id"),
    text("users.name BETWEEN 'm' AND 'z'"),
    text("(addresses.email_address LIKE :x OR "
         "addresses.email_address LIKE :y)"))
).select_from(table("users")).select_from(table("addresses"))
run("3.1.12 literal_column", conn, s, {"x": "%@aol.com", "y": "%@msn.com"})
stmt = select(addresses.c.user_id,
              func.count(addresses.c.id).label("num_addresses")) \
    .group_by("user_id").order_by("user_id", "num_addresses")
run("3.1.12 label order_by", conn, stmt)
stmt = select(addresses.c.user_id,
              func.count(addresses.c.id).label("num_addresses")) \
    .group_by("user_id").order_by("user_id", desc("num_addresses"))
run("3.1.12 label desc", conn, stmt)
u1a, u1b = users.alias(), users.alias()
stmt = select(u1a, u1b).where(u1a.c.name > u1b.c.name) \
    .order_by(u1a.c.name)
run("3.1.12 aliased order_by", conn, stmt)

# 3.1.13 Using Aliases
a1 = addresses.alias("a1")
a2 = addresses.alias("a2")
s = select(users).where(and_(
    users.c.id == a1.c.user_id,
    users.c.id == a2.c.user_id,
    a1.c.email_address == "jack@msn.com",
    a2.c.email_address == "jack@yahoo.com"))
run("3.1.13 named aliases", conn, s)
a1 = addresses.alias()
a2 = addresses.alias()
s = select(users).where(and_(
    users.c.id == a1.c.user_id,
    users.c.id == a2.c.user_id,
    a1.c.email_address == "jack@msn.com",
    a2.c.email_address == "jack@yahoo.com"))
run("3.1.13 anonymous aliases", conn, s)
a3 = s.correlate(None).subquery()
run("3.1.13 select alias", conn,
    select(users.c.name).where(users.c.id == a3.c.id))

# 3.1.14 Using Joins
show_sql("3.1.14 join", users.join(addresses))
show_sql("3.1.14 join on", users.join(
    addresses, addresses.c.email_address.like(users.c.name + "%")))
s = select(users.c.fullname).select_from(users.join(
    addresses, addresses.c.email_address.like(users.c.name + "%")))
run("3.1.14 select join", conn, s)
s = select(users.c.fullname).select_from(users.outerjoin(addresses))
run("3.1.14 outerjoin", conn, s)
s = select(users.c.name, addresses.c.email_address) \
    .join_from(users, addresses).order_by(addresses.c.id)
run("3.1.14 join_from", conn, s)
s = select(users.c.name, addresses.c.email_address) \
    .outerjoin(addresses).order_by(users.c.id, addresses.c.id)
run("3.1.14 select outerjoin", conn, s)

# 3.1.15 Generative Selects
query = users.select()
show_sql("3.1.15 start", query)
query = query.where(users.c.name == "jack")
query = query.order_by(users.c.fullname.desc())
query = query.where(
    exists(select(addresses.c.id).where(and_(
        addresses.c.user_id == users.c.id,
        addresses.c.email_address.like("%@msn.com"))).correlate(users)))
query = query.add_columns(*addresses.c) \
    .select_from(users.outerjoin(addresses)) \
    .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
run("3.1.15 query", conn, query)
result = conn.execute(query)
show("3.1.15 keys", list(result.keys()))
result.close()
a1 = addresses.alias()
query = query.replace_selectable(addresses, a1)
run("3.1.15 replace_selectable", conn, query)
for row in conn.execute(query):
    m = row._mapping
    print("Name:", m[users.c.name], "; Email Address", m[a1.c.email_address])

# 3.1.16 Everything Else: bind parameter objects
s = users.select().where(users.c.name == bindparam("username"))
run("3.1.16 bindparam", conn, s, {"username": "wendy"})
s = users.select().where(users.c.name.like(
    bindparam("username", type_=String) + text("'%'")))
run("3.1.16 bindparam typed", conn, s, {"username": "wendy"})
s = select(users, addresses).where(or_(
    users.c.name.like(bindparam("name", type_=String) + text("'%'")),
    addresses.c.email_address.like(
        bindparam("name", type_=String) + text("'@%'")))
).select_from(users.outerjoin(addresses)).order_by(addresses.c.id)
run("3.1.16 bindparam twice", conn, s, {"name": "jack"})

# functions
show_sql("3.1.16 now", func.now())
show_sql("3.1.16 concat", func.concat("x", "y"))
show_sql("3.1.16 goofy", func.xyz_my_goofy_function())
show_sql("3.1.16 current_timestamp", func.current_timestamp())
s = select(func.max(addresses.c.email_address, type_=String)
           .label("maxemail"))
show_sql("3.1.16 max sql", s)
show("3.1.16 max scalar", conn.execute(s).scalar())
show("3.1.16 count scalar",
     conn.execute(select(func.count()).select_from(addresses)).scalar())
show("3.1.16 concat scalar",
     conn.execute(select(func.upper(func.lower("AbC")) + "x")).scalar())
calculate = select(column("q"), column("z"), column("r")) \
    .select_from(func.calculate(bindparam("x"), bindparam("y"))).subquery()
calc = calculate
show_sql("3.1.16 calculate", select(users).where(users.c.id > calc.c.z))
calc1 = calculate.alias("c1").unique_params(x=17, y=45)
calc2 = calculate.alias("c2").unique_params(x=5, y=12)
s = select(users).where(users.c.id.between(calc1.c.z, calc2.c.z))
show_sql("3.1.16 unique_params", s)
show_params("3.1.16 unique_params params", s)

# window functions
s = select(users.c.id, func.row_number().over(order_by=users.c.name))
show_sql("3.1.16 over", s)
run("3.1.16 over rows", conn, s.order_by(users.c.id))
s = select(addresses.c.user_id, addresses.c.email_address,
           func.count().over(partition_by=addresses.c.user_id)
           .label("n")).order_by(addresses.c.id)
run("3.1.16 over partition", conn, s)

# unions and other set operations
u = union(
    addresses.select().where(addresses.c.email_address == "foo@bar.com"),
    addresses.select().where(addresses.c.email_address.like("%@yahoo.com")),
).order_by(addresses.c.email_address)
run("3.1.16 union", conn, u)
u = except_(
    addresses.select().where(addresses.c.email_address.like("%@%.com")),
    addresses.select().where(addresses.c.email_address.like("%@msn.com")))
run("3.1.16 except_", conn, u)
u = except_(
    union(
        addresses.select().where(
            addresses.c.email_address.like("%@yahoo.com")),
        addresses.select().where(
            addresses.c.email_address.like("%@msn.com"))
    ).subquery().select(),
    addresses.select().where(addresses.c.email_address.like("%@msn.com")))
run("3.1.16 nested", conn, u)
u = select(addresses.c.email_address).where(addresses.c.user_id == 1) \
    .intersect(select(addresses.c.email_address)
               .where(addresses.c.email_address.like("jack%")))
run("3.1.16 intersect", conn, u.order_by("email_address"))
u = select(users.c.name).union_all(select(users.c.name)) \
    .order_by(users.c.name).limit(3)
run("3.1.16 union_all", conn, u)

# scalar selects
stmt = select(func.count(addresses.c.id)) \
    .where(users.c.id == addresses.c.user_id).scalar_subquery()
run("3.1.16 scalar", conn, select(users.c.name, stmt).order_by(users.c.id))
stmt = select(func.count(addresses.c.id)) \
    .where(users.c.id == addresses.c.user_id).label("address_count")
run("3.1.16 scalar label", conn,
    select(users.c.name, stmt).order_by(users.c.id))

# correlated subqueries
stmt = select(addresses.c.user_id).where(
    addresses.c.user_id == users.c.id).where(
    addresses.c.email_address == "jack@yahoo.com")
enclosing = select(users.c.name).where(users.c.id == stmt.scalar_subquery())
run("3.1.16 correlated", conn, enclosing)
stmt = select(users.c.id).where(users.c.id == addresses.c.user_id).where(
    users.c.name == "jack").correlate(addresses)
enclosing = select(users.c.name, addresses.c.email_address) \
    .select_from(users.join(addresses)) \
    .where(users.c.id == stmt.scalar_subquery())
run("3.1.16 correlate", conn, enclosing)
stmt = select(users.c.id).where(users.c.name == "wendy").correlate(None)
enclosing = select(users.c.name).where(users.c.id == stmt.scalar_subquery())
run("3.1.16 correlate None", conn, enclosing)
stmt = select(users.c.id).where(users.c.id == addresses.c.user_id) \
    .where(users.c.name == "jack").correlate_except(users)
enclosing = select(users.c.name, addresses.c.email_address) \
    .select_from(users.join(addresses)) \
    .where(users.c.id == stmt.scalar_subquery())
run("3.1.16 correlate_except", conn, enclosing)

# ordering, grouping, limiting, offset
run("3.1.16 order_by", conn, select(users.c.name).order_by(users.c.name))
run("3.1.16 order_by desc", conn,
    select(users.c.name).order_by(users.c.name.desc()))
stmt = select(users.c.name, func.count(addresses.c.id)) \
    .select_from(users.join(addresses)).group_by(users.c.name)
run("3.1.16 group_by", conn, stmt)
stmt = select(users.c.name, func.count(addresses.c.id)) \
    .select_from(users.join(addresses)).group_by(users.c.name) \
    .having(func.length(users.c.name) > 4)
run("3.1.16 having", conn, stmt)
s = select(addresses.c.user_id, func.count(addresses.c.id)) \
    .group_by(addresses.c.user_id).having(func.count(addresses.c.id) > 1)
run("3.1.16 having count", conn, s)
stmt = select(users.c.name).where(
    addresses.c.email_address.contains(users.c.name)) \
    .order_by(desc(users.c.name)).distinct()
run("3.1.16 distinct", conn, stmt)
stmt = select(users.c.name, addresses.c.email_address) \
    .select_from(users.join(addresses)).limit(1).offset(1)
run("3.1.16 limit offset", conn, stmt)

# 3.1.17 Inserts, Updates and Deletes
show_sql("3.1.17 insert func", users.insert().values(
    id=12, name=func.upper("jack")))
show_sql("3.1.17 insert concat", addresses.insert().values(
    email_address=bindparam("name") + "@" + bindparam("host")))
# (the docs' upper('jack') would be 'jack' again where names compare
# without case, as MariaDB's do)
result = conn.execute(users.insert().values(name=func.upper("jill")),
                      {"fullname": "Jill Jones"})
show("3.1.17 inserted_primary_key", result.inserted_primary_key)
stmt = users.insert().values(name=bindparam("_name") + " .. name")
show_sql("3.1.17 insert bindparam", stmt)
result = conn.execute(stmt, [
    {"id": 6, "_name": "name1"},
    {"id": 7, "_name": "name2"},
    {"id": 8, "_name": "name3"},
])
show("3.1.17 insert many rowcount", result.rowcount)
run("3.1.17 after inserts", conn, select(users).order_by(users.c.id))
stmt = users.update().where(users.c.name == "jack").values(name="ed")
show_sql("3.1.17 update", stmt)
result = conn.execute(stmt)
show("3.1.17 update rowcount", result.rowcount)
stmt = users.update().where(users.c.name == bindparam("oldname")) \
    .values(name=bindparam("newname"))
show_sql("3.1.17 update bindparam", stmt)
result = conn.execute(stmt, {"oldname": "jack", "newname": "ed"})
show("3.1.17 update rowcount", result.rowcount)
result = conn.execute(stmt, [
    {"oldname": "jack", "newname": "ed"},
    {"oldname": "wendy", "newname": "mary"},
    {"oldname": "jim", "newname": "jake"},
])
show("3.1.17 update many rowcount", result.rowcount)
stmt = users.update().values(fullname="Fullname: " + users.c.name)
show_sql("3.1.17 update expression", stmt)
result = conn.execute(stmt)
show("3.1.17 update expression rowcount", result.rowcount)
run("3.1.17 after updates", conn, select(users).order_by(users.c.id))

# correlated updates
stmt = select(addresses.c.email_address) \
    .where(addresses.c.user_id == users.c.id).limit(1)
upd = users.update().values(fullname=stmt.scalar_subquery())
show_sql("3.1.17 correlated update", upd)
result = conn.execute(upd)
show("3.1.17 correlated update rowcount", result.rowcount)
run("3.1.17 after correlated update", conn,
    select(users).order_by(users.c.id))

# deletes
result = conn.execute(addresses.delete())
show_sql("3.1.18 delete all", addresses.delete())
show("3.1.18 delete all rowcount", result.rowcount)
stmt = users.delete().where(users.c.name > "m")
show_sql("3.1.18 delete where", stmt)
result = conn.execute(stmt)
show("3.1.18 delete rowcount", result.rowcount)
run("3.1.18 left", conn, select(users).order_by(users.c.id))
conn.commit()
conn.close()
