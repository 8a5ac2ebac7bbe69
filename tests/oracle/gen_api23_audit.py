#!/usr/bin/python3
"""Generate tests/lua/test_api23_audit.lua: constructs of API.md sections
2 and 3 that an audit against SQLAlchemy 1.4 found rendered differently,
written in Python (run here on the oracle) and in Lua, with the text
SQLAlchemy renders for the default string form and the sqlite, postgresql
and mysql dialects.  Shares gen_sql_cases.py's tables and rendering.

    /usr/bin/python3 tests/oracle/gen_api23_audit.py > tests/lua/test_api23_audit.lua
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(HERE, "gen_sql_cases.py")).read().rsplit("\nmain()", 1)[0]
exec(compile(src, "gen_sql_cases.py", "exec"))
from sqlalchemy.schema import DropIndex, AddConstraint, DropConstraint  # noqa: E402

m2 = MetaData()
par = Table("par", m2, Column("id", Integer, primary_key=True))
fkt = Table("fkt", m2,
    Column("x", Integer), Column("y", Integer), Column("z", String(10)),
    PrimaryKeyConstraint("x", "y", name="pk_xy"),
    ForeignKeyConstraint(["x"], ["par.id"], name="fk_x", ondelete="SET NULL",
                         onupdate="CASCADE", deferrable=True, initially="DEFERRED"),
    Index("ix_fkt_where", "y", postgresql_where=text("y > 5")),
)
fkm = Table("fkm", m2,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("r", Integer, ForeignKey("fkt.x", name="fk3", onupdate="RESTRICT", match="FULL",
                                    deferrable=False, initially="IMMEDIATE")),
    Column("v", Boolean(create_constraint=True, name="ck_v")),
    schema="sch")
seqt = Table("seqt", m2,
    Column("id", BigInteger, primary_key=True),
    Column("n", Integer, Sequence("seqt_n", schema="sch")))
idt = Table("idt", m2,
    Column("id", Integer, Identity(start=5, increment=2), primary_key=True),
    Column("x", BigInteger, Identity(always=True, minvalue=1, maxvalue=99, cycle=True,
                                     cache=5, order=True, nominvalue=False)),
    Column("y", Integer, Identity()),
    Column("z", Integer, Identity(), nullable=True))
att = Table("att", m2, Column("id", Integer, primary_key=True), Column("v", Integer),
            Column("w", Integer, CheckConstraint(text("w < 9"))), CheckConstraint(text("v <> 3")))
UniqueConstraint(att.c.v, att.c.w, name="uq_att")
CheckConstraint(att.c.v > 0, name="ck_att")
CheckConstraint(and_(att.c.w > att.c.v, att.c.w != 5))
ForeignKeyConstraint([att.c.w], [par.c.id], name="fk_att")
dft = Table("dft", m2,
    Column("a", String(20, collation="utf8_bin")), Column("b", Text(collation="C")),
    Column("t", Integer, server_default=literal_column("1") + 2),
    Column("w", Integer, key="wkey"))
pgenum = Table("pgenum", m2, Column("k", Enum("x", "y")))
dflt = Table("dflt", m2,
    Column("id", Integer, primary_key=True),
    Column("a", Integer, default=5),
    Column("b", String(10), default="x", onupdate="y"),
    Column("c", DateTime, default=func.now(), onupdate=func.now()),
    Column("e", Integer, default=select(func.max(par.c.id)).scalar_subquery()),
    Column("f", Integer, default=literal_column("3") + 4))
m8 = MetaData()
ct = Table("ct", m8, Column("id", Integer, primary_key=True), Column("v", Integer), Column("w", Integer))
cp = Table("cp", m8, Column("id", Integer, primary_key=True))
uq = UniqueConstraint(ct.c.v, name="uq_v")
uq2 = UniqueConstraint(ct.c.v, ct.c.w)
ck = CheckConstraint(ct.c.v > 0, name="ck_v")
fk = ForeignKeyConstraint([ct.c.w], [cp.c.id], name="fk_w", ondelete="CASCADE")
badfk = Table("badfk", m2,
    Column("id", Integer, primary_key=True),
    Column("r", Integer, ForeignKey("par.id", ondelete="DROP TABLE x")))

EXTRA_PRELUDE = r'''
local m2 = MetaData()
local par = Table("par", m2, Column("id", Integer, {primary_key = true}))
local fkt = Table("fkt", m2,
  Column("x", Integer), Column("y", Integer), Column("z", String(10)),
  PrimaryKeyConstraint("x", "y", {name = "pk_xy"}),
  ForeignKeyConstraint({"x"}, {"par.id"}, {name = "fk_x", ondelete = "SET NULL",
    onupdate = "CASCADE", deferrable = true, initially = "DEFERRED"}),
  Index("ix_fkt_where", "y", {postgresql_where = text("y > 5")}))
local fkm = Table("fkm", m2,
  Column("id", Integer, {primary_key = true, autoincrement = false}),
  Column("r", Integer, ForeignKey("fkt.x", {name = "fk3", onupdate = "RESTRICT", match = "FULL",
    deferrable = false, initially = "IMMEDIATE"})),
  Column("v", Boolean{create_constraint = true, name = "ck_v"}),
  {schema = "sch"})
local seqt = Table("seqt", m2,
  Column("id", BigInteger, {primary_key = true}),
  Column("n", Integer, Sequence("seqt_n", {schema = "sch"})))
local idt = Table("idt", m2,
  Column("id", Integer, Identity{start = 5, increment = 2}, {primary_key = true}),
  Column("x", BigInteger, Identity{always = true, minvalue = 1, maxvalue = 99, cycle = true,
    cache = 5, order = true, nominvalue = false}),
  Column("y", Integer, Identity()),
  Column("z", Integer, Identity(), {nullable = true}))
local att = Table("att", m2, Column("id", Integer, {primary_key = true}), Column("v", Integer),
  Column("w", Integer, CheckConstraint(text("w < 9"))), CheckConstraint(text("v <> 3")))
UniqueConstraint(att.c.v, att.c.w, {name = "uq_att"})
CheckConstraint(att.c.v:gt(0), {name = "ck_att"})
CheckConstraint(and_(att.c.w:gt(att.c.v), att.c.w:ne(5)))
ForeignKeyConstraint({att.c.w}, {par.c.id}, {name = "fk_att"})
local dft = Table("dft", m2,
  Column("a", String(20, {collation = "utf8_bin"})), Column("b", Text{collation = "C"}),
  Column("t", Integer, {server_default = literal_column("1") + 2}),
  Column("w", Integer, {key = "wkey"}))
local pgenum = Table("pgenum", m2, Column("k", Enum("x", "y")))
local dflt = Table("dflt", m2,
  Column("id", Integer, {primary_key = true}),
  Column("a", Integer, {default = 5}),
  Column("b", String(10), {default = "x", onupdate = "y"}),
  Column("c", DateTime, {default = func.now(), onupdate = func.now()}),
  Column("e", Integer, {default = select(func.max(par.c.id)):scalar_subquery()}),
  Column("f", Integer, {default = literal_column("3") + 4}))
local m8 = MetaData()
local ct = Table("ct", m8, Column("id", Integer, {primary_key = true}), Column("v", Integer), Column("w", Integer))
local cp = Table("cp", m8, Column("id", Integer, {primary_key = true}))
local uq = UniqueConstraint(ct.c.v, {name = "uq_v"})
local uq2 = UniqueConstraint(ct.c.v, ct.c.w)
local ck = CheckConstraint(ct.c.v:gt(0), {name = "ck_v"})
local fk = ForeignKeyConstraint({ct.c.w}, {cp.c.id}, {name = "fk_w", ondelete = "CASCADE"})
local badfk = Table("badfk", m2,
  Column("id", Integer, {primary_key = true}),
  Column("r", Integer, ForeignKey("par.id", {ondelete = "DROP TABLE x"})))
'''
NAMES = ["users", "addresses", "orders", "kinds", "t1", "pgonly", "nodes",
         "seqd", "fkt", "fkm", "seqt", "badfk", "idt", "att", "dft", "pgenum", "dflt", "par", "ct", "uq", "uq2", "ck", "fk"]

ALL = ["sqlite", "postgresql", "mysql"]
CASES = [
    # a comparison with null() is IS [NOT] NULL
    ("select(users.c.id).where(users.c.age == null())", "select(users.c.id):where(users.c.age:eq(null()))"),
    ("select(users.c.id).where(users.c.age != null())", "select(users.c.id):where(users.c.age:ne(null()))"),
    # upserts: excluded / inserted, index_where, constraint, grouped SET values
    ("(lambda i: i.on_conflict_do_update(index_elements=['name'], set_={'age': i.excluded.age, 'fullname': i.excluded.name + 'x'}))(pg_insert(users).values(name='a', age=2))",
     "(function() local i = insert(users):values{name = 'a', age = 2}; return i:on_conflict_do_update{index_elements = {'name'}, set_ = {age = i.excluded.age, fullname = i.excluded.name .. 'x'}} end)()", {"only": ["postgresql"]}),
    ("(lambda i: i.on_conflict_do_update(index_elements=['name'], set_={'age': i.excluded.age}))(pg_insert(users).values(name='a', age=2))",
     "(function() local i = insert(users):values{name = 'a', age = 2}; return i:on_conflict_do_update{index_elements = {'name'}, set_ = {age = i.excluded.age}} end)()", {"only": ["postgresql"], "lit": True}),
    ("(lambda i: i.on_conflict_do_update(index_elements=['name'], set_={'age': i.excluded.age + 1}, where=i.excluded.age > users.c.age))(lite_insert(users).values(name='a', age=2))",
     "(function() local i = insert(users):values{name = 'a', age = 2}; return i:on_conflict_do_update{index_elements = {'name'}, set_ = {age = i.excluded.age + 1}, where = i.excluded.age:gt(users.c.age)} end)()", {"only": ["sqlite"]}),
    ("(lambda i: i.on_duplicate_key_update(age=i.inserted.age, name='z'))(my_insert(users).values(name='a', age=2))",
     "(function() local i = insert(users):values{name = 'a', age = 2}; return i:on_duplicate_key_update{age = i.inserted.age, name = 'z'} end)()", {"only": ["mysql"]}),
    ("(lambda i: i.on_duplicate_key_update(age=i.inserted.age + users.c.age))(my_insert(users).values(name='a', age=2))",
     "(function() local i = insert(users):values{name = 'a', age = 2}; return i:on_duplicate_key_update{age = i.inserted.age + users.c.age} end)()", {"only": ["mysql"], "lit": True}),
    ("pg_insert(users).values(name='a').on_conflict_do_update(index_elements=[users.c.name], index_where=users.c.age > 1, set_={'age': 5})",
     "insert(users):values{name = 'a'}:on_conflict_do_update{index_elements = {users.c.name}, index_where = users.c.age:gt(1), set_ = {age = 5}}", {"only": ["postgresql"]}),
    ("lite_insert(users).values(name='a').on_conflict_do_nothing(index_elements=['name'], index_where=users.c.age > 1)",
     "insert(users):values{name = 'a'}:on_conflict_do_nothing{index_elements = {'name'}, index_where = users.c.age:gt(1)}", {"only": ["sqlite"]}),
    ("pg_insert(users).values(name='a').on_conflict_do_nothing(constraint='uq_x')",
     "insert(users):values{name = 'a'}:on_conflict_do_nothing{constraint = 'uq_x'}", {"only": ["postgresql"]}),
    ("pg_insert(users).values(name='a').on_conflict_do_update(constraint='users_name_key', set_={'age': -users.c.age})",
     "insert(users):values{name = 'a'}:on_conflict_do_update{constraint = 'users_name_key', set_ = {age = -users.c.age}}", {"only": ["postgresql"]}),
    # prefixes of UPDATE and DELETE
    ("update(users).prefix_with('LOW_PRIORITY').values(name='a')", "update(users):prefix_with('LOW_PRIORITY'):values{name = 'a'}"),
    ("delete(users).prefix_with('LOW_PRIORITY').where(users.c.id == 1)", "delete(users):prefix_with('LOW_PRIORITY'):where(users.c.id:eq(1))"),
    # cast() binds its value as the target type; MySQL skips a float CAST
    ("select(cast('5', Integer), cast('2.50', Numeric(10, 2)))", "select(cast('5', Integer), cast('2.50', Numeric(10, 2)))", {"lit": True}),
    ("select(cast('5', Integer))", "select(cast('5', Integer))"),
    ("select(cast(users.c.age, Float), cast(users.c.age + 1, Float(53)))", "select(cast(users.c.age, Float), cast(users.c.age + 1, Float(53)))"),
    # a numeric string: quoted against a column, a number as a column's value
    ("select(users.c.id).where(users.c.age == '5').where(users.c.age.in_(['6', '7']))", "select(users.c.id):where(users.c.age:eq('5')):where(users.c.age:in_{'6', '7'})", {"lit": True}),
    ("insert(users).values(name='x', age='5')", "insert(users):values{name = 'x', age = '5'}", {"lit": True}),
    ("update(orders).values(amount='-07.50', user_id='012')", "update(orders):values{amount = '-07.50', user_id = '012'}", {"lit": True}),
    # case(): else_=None is no ELSE; null() is ELSE NULL
    ("select(case((users.c.age > 1, users.c.name), else_=None), case((users.c.age > 1, users.c.name), else_=null()))",
     "select(case({{users.c.age:gt(1), users.c.name}}, {else_ = sa.null}), case({{users.c.age:gt(1), users.c.name}}, {else_ = null()}))"),
    # sysdate: an ANSI function, MySQL's SYSDATE()
    ("select(func.sysdate(), func.localtime())", "select(func.sysdate(), func.localtime())"),
    # DDL: foreign key MATCH / DEFERRABLE / INITIALLY, a Boolean's CHECK
    ("CreateTable(fkt)", "CreateTable(fkt)"),
    ("CreateTable(fkm)", "CreateTable(fkm)"),
    ("CreateTable(badfk)", "CreateTable(badfk)"),
    # Index dialect options
    ("CreateIndex(list(fkt.indexes)[0])", "CreateIndex(Index('ix_fkt_where2', fkt.c.y, {postgresql_where = text('y > 5')}))", {"only": ["postgresql"], "rename": ("ix_fkt_where", "ix_fkt_where2")}),
    ("CreateIndex(Index('ix_pw', fkt.c.y, fkt.c.z, postgresql_where=fkt.c.y > 5, postgresql_using='GIN', postgresql_include=['x'], postgresql_concurrently=True))",
     "CreateIndex(Index('ix_pw', fkt.c.y, fkt.c.z, {postgresql_where = fkt.c.y:gt(5), postgresql_using = 'GIN', postgresql_include = {'x'}, postgresql_concurrently = true}))", {"only": ALL}),
    ("CreateIndex(Index('ix_sw', fkt.c.z, sqlite_where=fkt.c.z != 'a'))", "CreateIndex(Index('ix_sw', fkt.c.z, {sqlite_where = fkt.c.z:ne('a')}))", {"only": ALL}),
    ("CreateIndex(Index('ix_ml', fkt.c.z, fkt.c.y, mysql_length={'z': 4}, mysql_prefix='FULLTEXT', mysql_using='btree'))",
     "CreateIndex(Index('ix_ml', fkt.c.z, fkt.c.y, {mysql_length = {z = 4}, mysql_prefix = 'FULLTEXT', mysql_using = 'btree'}))", {"only": ALL}),
    ("CreateIndex(Index('ix_ml2', fkt.c.z, mysql_length=6, mysql_with_parser='ngram'))",
     "CreateIndex(Index('ix_ml2', fkt.c.z, {mysql_length = 6, mysql_with_parser = 'ngram'}))", {"only": ["mysql"]}),
    ("DropIndex(Index('ix_dc', fkt.c.z, postgresql_concurrently=True))", "DropIndex(Index('ix_dc', fkt.c.z, {postgresql_concurrently = true}))", {"only": ["postgresql"]}),
    # Sequence(schema): DDL and nextval; the string form's next value
    ("CreateSequence(Sequence('sq', schema='sch', start=3))", "CreateSequence(Sequence('sq', {schema = 'sch', start = 3}))", {"only": ["postgresql"]}),
    ("DropSequence(Sequence('sq', schema='sch'))", "DropSequence(Sequence('sq', {schema = 'sch'}))", {"only": ["postgresql"]}),
    ("insert(seqt).values(id=1)", "insert(seqt):values{id = 1}"),
    # CTEs of INSERT / UPDATE / DELETE ... RETURNING; add_cte()
    ("(lambda c: select(c.c.id, c.c.n))(insert(users).values(name='a', age=3).returning(users.c.id, users.c.name.label('n')).cte('ins'))",
     "(function() local c = insert(users):values{name = 'a', age = 3}:returning(users.c.id, users.c.name:label('n')):cte('ins'); return select(c.c.id, c.c.n) end)()", {"only": ["postgresql", "default"]}),
    ("(lambda c: select(c.c.id).where(c.c.id > 2))(update(users).values(age=users.c.age + 1).returning(users.c.id).cte())",
     "(function() local c = update(users):values{age = users.c.age + 1}:returning(users.c.id):cte(); return select(c.c.id):where(c.c.id:gt(2)) end)()", {"only": ["postgresql", "default"], "lit": True}),
    ("(lambda c: insert(orders).from_select(['user_id'], select(c.c.id)))(delete(users).where(users.c.age > 3).returning(users.c.id).cte('del'))",
     "(function() local c = delete(users):where(users.c.age:gt(3)):returning(users.c.id):cte('del'); return insert(orders):from_select({'user_id'}, select(c.c.id)) end)()", {"only": ["postgresql", "default"]}),
    ("(lambda c: select(func.count()).select_from(c))(delete(users).where(users.c.age > 3).returning(users).cte('del'))",
     "(function() local c = delete(users):where(users.c.age:gt(3)):returning(users):cte('del'); return select(func.count()):select_from(c) end)()", {"only": ["postgresql", "default"]}),
    ("select(users.c.id).add_cte(select(addresses.c.id).where(addresses.c.id > 5).cte('a1'))",
     "select(users.c.id):add_cte(select(addresses.c.id):where(addresses.c.id:gt(5)):cte('a1'))"),
    ("(lambda c: update(users).add_cte(c).where(users.c.id.in_(select(c.c.id))).values(age=1))(select(users.c.id).cte('src'))",
     "(function() local c = select(users.c.id):cte('src'); return update(users):add_cte(c):where(users.c.id:in_(select(c.c.id))):values{age = 1} end)()"),
    ("(lambda c: delete(users).add_cte(c).where(users.c.id.in_(select(c.c.id))))(select(users.c.id).where(users.c.age > 1).cte('x'))",
     "(function() local c = select(users.c.id):where(users.c.age:gt(1)):cte('x'); return delete(users):add_cte(c):where(users.c.id:in_(select(c.c.id))) end)()", {"lit": True}),
    # regexp_match flags, regexp_replace (same statement shape, other
    # flags: compiled apart)
    ("select(users.c.id).where(users.c.name.regexp_match('^a', flags='i'))", "select(users.c.id):where(users.c.name:regexp_match('^a', 'i'))"),
    ("select(users.c.id).where(users.c.name.regexp_match('^a', flags='ix'))", "select(users.c.id):where(users.c.name:regexp_match('^a', {flags = 'ix'}))"),
    ("select(users.c.id).where(~users.c.name.regexp_match('^a', flags='i'))", "select(users.c.id):where(~users.c.name:regexp_match('^a', 'i'))"),
    ("select(users.c.id).where(~users.c.name.regexp_match('^a', flags='g'))", "select(users.c.id):where(~users.c.name:regexp_match('^a', 'g'))", {"lit": True}),
    ("select(users.c.name.regexp_replace('a', 'b'))", "select(users.c.name:regexp_replace('a', 'b'))"),
    ("select(users.c.name.regexp_replace('a', 'b', flags='g').label('r'))", "select(users.c.name:regexp_replace('a', 'b', 'g'):label('r'))"),
    ("select(users.c.name.regexp_replace('a', users.c.fullname) + 'x')", "select(users.c.name:regexp_replace('a', users.c.fullname) .. 'x')"),
    ("update(users).values(name=users.c.name.regexp_replace('a', 'b'))", "update(users):values{name = users.c.name:regexp_replace('a', 'b')}", {"only": ["postgresql", "mysql", "default"]}),
    # constraints of Column objects join their table; CHECK expressions
    ("CreateTable(att)", "CreateTable(att)"),
    # collation, an expression server default's values, binds named by key
    ("CreateTable(dft)", "CreateTable(dft)"),
    ("select(cast(dft.c.a, String(5, collation='x')))", "select(cast(dft.c.a, String(5, {collation = 'x'})))", {"only": ["default", "sqlite", "postgresql"]}),
    ("select(dft.c.wkey).where(dft.c.wkey == 1).where(dft.c.wkey.in_([2, 3]))", "select(dft.c.wkey):where(dft.c.wkey:eq(1)):where(dft.c.wkey:in_{2, 3})"),
    # PostgreSQL's ENUM needs a name
    ("CreateTable(pgenum)", "CreateTable(pgenum)"),
    # defaults: multi-VALUES rows and INSERT ... SELECT take them; a value
    # default shows NULL under literal_binds
    ("insert(dflt).values([{'a': 1}, {'a': 2, 'b': 'q'}])", "insert(dflt):values{{a = 1}, {a = 2, b = 'q'}}"),
    ("insert(dflt).from_select(['a'], select(par.c.id))", "insert(dflt):from_select({'a'}, select(par.c.id))"),
    ("insert(dflt).values(a=1)", "insert(dflt):values{a = 1}", {"lit": True}),
    ("update(dflt).values(a=2).where(dflt.c.id == 1)", "update(dflt):values{a = 2}:where(dflt.c.id:eq(1))", {"lit": True}),
    # MySQL's WHERE without a FROM: FROM DUAL
    ("select(literal(1)).where(exists(select(users.c.id)))", "select(literal(1)):where(exists(select(users.c.id)))"),
    # PostgreSQL JSONB's astext
    ("select(pgonly.c.doc['a'].astext, pgonly.c.doc[('a', 'b')].astext, pgonly.c.doc['a']['b'].astext)",
     "select(pgonly.c.doc['a'].astext, pgonly.c.doc[{'a', 'b'}].astext, pgonly.c.doc['a']['b'].astext)", {"only": ["postgresql", "default"]}),
    ("select(pgonly.c.id).where(pgonly.c.doc['a'].astext == 'x').order_by(pgonly.c.doc['b'].astext)",
     "select(pgonly.c.id):where(pgonly.c.doc['a'].astext:eq('x')):order_by(pgonly.c.doc['b'].astext)", {"only": ["postgresql", "default"]}),
    # text(): a colon after a word character is no bind; bindparams of
    # bindparam() objects and names at once
    ("text(\"SELECT 'a:b', :c FROM t WHERE x = 'it''s :not'\").bindparams(c=1)", "text(\"SELECT 'a:b', :c FROM t WHERE x = 'it''s :not'\"):bindparams{c = 1}"),
    ("text('SELECT :x, :y').bindparams(bindparam('x', type_=Integer), y='a')", "text('SELECT :x, :y'):bindparams(bindparam('x', nil, {type_ = Integer}), {y = 'a'})"),
    # a function's None argument is NULL
    ("select(func.coalesce(None, users.c.age, 1))", "select(func.coalesce(sa.null, users.c.age, 1))"),
    # AddConstraint / DropConstraint (an added one leaves CREATE TABLE)
    ("AddConstraint(uq)", "AddConstraint(uq)"),
    ("DropConstraint(uq, cascade=True)", "DropConstraint(uq, {cascade = true})"),
    ("AddConstraint(uq2)", "AddConstraint(uq2)"),
    ("DropConstraint(uq2)", "DropConstraint(uq2)", {"only": ["default", "sqlite", "postgresql"]}),
    ("AddConstraint(ck)", "AddConstraint(ck)"),
    ("DropConstraint(ck)", "DropConstraint(ck)"),
    ("AddConstraint(fk)", "AddConstraint(fk)"),
    ("DropConstraint(fk)", "DropConstraint(fk)"),
    ("AddConstraint(ct.primary_key)", "AddConstraint(ct.primary_key)"),
    ("DropConstraint(ct.primary_key)", "DropConstraint(ct.primary_key)"),
    ("CreateTable(ct)", "CreateTable(ct)"),
    # Identity columns
    ("CreateTable(idt)", "CreateTable(idt)"),
    ("insert(idt).values(x=1, y=2, z=3)", "insert(idt):values{x = 1, y = 2, z = 3}"),
]


def main():
    out = sys.stdout
    out.write("-- generated by tests/oracle/gen_api23_audit.py from SQLAlchemy 1.4: do not edit\n")
    out.write("-- Each construct renders the oracle's text, up to white space, for the\n")
    out.write("-- default string form and each dialect (\"!\": it fails to compile).\n")
    out.write("local prelude = " + lua_str(LUA_PRELUDE + EXTRA_PRELUDE) + "\n")
    out.write("local cases = {\n")
    n = 0
    env = dict(globals())
    for case in CASES:
        py, lua = case[0], case[1]
        opts = case[2] if len(case) > 2 else {}
        stmt = eval(py, env)
        out.write("  {lua = %s, lit = %s, expect = {\n" % (lua_str(lua), "true" if opts.get("lit") else "false"))
        for name in DIALECTS:
            if "only" in opts and name not in opts["only"]:
                continue
            try:
                s = render(stmt, name, opts.get("lit"))
            except Exception as e:
                s = "!" + type(e).__name__
            if "rename" in opts:
                s = s.replace(*opts["rename"])
            out.write("    %s = %s,\n" % (name, lua_str(s)))
            n += 1
        out.write("  }},\n")
    out.write("}\n")
    out.write(RUNNER % {"names": ", ".join("%s = %s" % (k, k) for k in NAMES), "count": n})


RUNNER = r'''
local function norm(s)
  s = s:gsub("%%s+", " "):gsub("%%( ", "("):gsub(" %%)", ")")
  return (s:gsub("^ ", ""):gsub(" $", ""))
end

local env = setmetatable({}, {__index = _ENV})
local names = assert(load(prelude .. "\nreturn {%(names)s}", "prelude", "t", env))()
for k, v in pairs(names) do env[k] = v end

local failed, passed = 0, 0
for i, case in ipairs(cases) do
  local fn, err = load("return " .. case.lua, "case " .. i, "t", env)
  local ok, stmt = pcall(fn or error, err)
  for dialect, want in pairs(case.expect) do
    local got
    if not ok then
      got = "!" .. tostring(stmt)
    else
      local cok, res = pcall(function()
        if dialect == "default" and not case.lit then return tostring(stmt) end
        return stmt:compile(dialect, {literal_binds = case.lit}).sql
      end)
      if cok then got = res
      elseif type(res) == "table" and res.kind then got = "!" .. res.kind
      else got = "!" .. tostring(res) end
    end
    local match
    if want:sub(1, 1) == "!" then
      match = got == want
    else
      match = norm(got) == norm(want)
    end
    if match then
      passed = passed + 1
    else
      failed = failed + 1
      io.stderr:write(string.format("FAIL case %%d [%%s] %%s\n  want: %%s\n  got:  %%s\n",
        i, dialect, case.lua, norm(want), norm(got)))
    end
  end
end
print(string.format("%%d passed, %%d failed of %(count)d", passed, failed))
if failed > 0 or passed ~= %(count)d then os.exit(1) end
'''

main()
