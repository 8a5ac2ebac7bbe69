#!/usr/bin/python3
"""Expectations of tests/lua/test_orm_query_setops.lua: set operations of
the legacy Query (a union of a union, of several classes, of columns, of
an aliased class; a subquery of one), enable_eagerloads and the places
SQLAlchemy turns eager loading off by itself, and the order of the
statements of immediate, selectin and subquery loaders, written in Python
and run here on SQLAlchemy 1.4 (the oracle) against SQLite, and against
PostgreSQL and MariaDB when RETORT_TEST_PG / RETORT_TEST_MYSQL name them.
Each scenario prints the statements emitted (placeholders as ?, names
unquoted), then "R <result>" or "E <error kind>".  The EXPECT block of
the Lua test is rewritten with them in place:

    scripts/test-servers /usr/bin/python3 tests/oracle/gen_query_setops.py

A scenario added here is added to the Lua test by hand, under the same
label.
"""
import os
import re
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")  # (the legacy Query's deprecations)

from sqlalchemy import *  # noqa
from sqlalchemy.orm import *  # noqa
from sqlalchemy import event

HERE = os.path.dirname(os.path.abspath(__file__))
TEST = os.path.join(HERE, "..", "lua", "test_orm_query_setops.lua")


def scenarios(url):
    """Run every scenario on the database at url, printing its lines."""
    engine = create_engine(url)
    Base = declarative_base()

    class A(Base):
        __tablename__ = "so_a"
        id = Column(Integer, primary_key=True, autoincrement=False)
        name = Column(String(30))
        bs = relationship("B", order_by="B.id")
        cs = relationship("C", order_by="C.id")
        def __repr__(self): return "A(%s)" % self.name
    class B(Base):
        __tablename__ = "so_b"
        id = Column(Integer, primary_key=True, autoincrement=False)
        a_id = Column(Integer, ForeignKey("so_a.id"))
        ds = relationship("D", order_by="D.id")
        def __repr__(self): return "B(%d)" % self.id
    class C(Base):
        __tablename__ = "so_c"
        id = Column(Integer, primary_key=True, autoincrement=False)
        a_id = Column(Integer, ForeignKey("so_a.id"))
        def __repr__(self): return "C(%d)" % self.id
    class D(Base):
        __tablename__ = "so_d"
        id = Column(Integer, primary_key=True, autoincrement=False)
        b_id = Column(Integer, ForeignKey("so_b.id"))
        def __repr__(self): return "D(%d)" % self.id
    class F(Base):
        __tablename__ = "so_f"
        id = Column(Integer, primary_key=True, autoincrement=False)
        items = relationship("I", lazy="joined", order_by="I.id")
        def __repr__(self): return "F(%d)" % self.id
    class I(Base):
        __tablename__ = "so_i"
        id = Column(Integer, primary_key=True, autoincrement=False)
        f_id = Column(Integer, ForeignKey("so_f.id"))
        def __repr__(self): return "I(%d)" % self.id

    class E(Base):
        __tablename__ = "so_e"
        id = Column(Integer, primary_key=True, autoincrement=False)
        name = Column(String(30))
        type = Column(String(20))
        __mapper_args__ = {"polymorphic_on": type,
                           "polymorphic_identity": "e"}
        def __repr__(self): return "%s(%s)" % (type(self).__name__, self.name)
    class G(E):
        __tablename__ = "so_g"
        id = Column(Integer, ForeignKey("so_e.id"), primary_key=True)
        lang = Column(String(30))
        __mapper_args__ = {"polymorphic_identity": "g"}
    class S(E):
        __mapper_args__ = {"polymorphic_identity": "s"}

    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    log = []
    @event.listens_for(engine, "before_cursor_execute")
    def bce(conn, cur, sql, params, ctx, many):
        sql = re.sub(r"\s+", " ", sql).strip()
        sql = re.sub(r"%\(\w+\)s", "?", sql).replace("%s", "?")
        log.append(sql.replace('"', "").replace("`", ""))
    with engine.begin() as c:
        c.execute(A.__table__.insert(), [dict(id=i, name="a%d" % i)
                                         for i in (1, 2, 3, 4)])
        c.execute(B.__table__.insert(), [dict(id=1, a_id=1), dict(id=2, a_id=1),
                                         dict(id=3, a_id=2)])
        c.execute(C.__table__.insert(), [dict(id=1, a_id=1), dict(id=2, a_id=3)])
        c.execute(D.__table__.insert(), [dict(id=1, b_id=1), dict(id=2, b_id=3)])
        c.execute(F.__table__.insert(), [dict(id=1)])
        c.execute(I.__table__.insert(), [dict(id=1, f_id=1), dict(id=2, f_id=1)])
        c.execute(E.__table__.insert(), [
            dict(id=1, name="e1", type="g"), dict(id=2, name="e2", type="e"),
            dict(id=3, name="e3", type="s"), dict(id=4, name="e4", type="g")])
        c.execute(G.__table__.insert(), [dict(id=1, lang="lua"), dict(id=4, lang="c")])
    def fmt(v):
        if isinstance(v, (list, tuple)) or type(v).__name__ == "Row":
            return "(" + ", ".join(fmt(x) for x in v) + ")"
        if isinstance(v, str): return "'%s'" % v
        if v is None: return "nil"
        return repr(v)
    def case(label, fn):
        s = Session(engine)
        del log[:]
        try:
            r = fn(s)
            out = "R " + fmt(r)
        except Exception as e:
            out = "E " + type(e).__name__
        print("== " + label)
        for l in log: print("SQL " + l)
        print(out)
        s.close()
    Q = lambda s: s.query(A)
    one = lambda s, i: Q(s).filter(A.id == i)
    # -- set operations of set operations
    case("union of union", lambda s: one(s, 1).union(one(s, 2)).union(one(s, 3)).order_by(A.id).all())
    case("union of three", lambda s: one(s, 1).union(one(s, 2), one(s, 3)).order_by(A.id).all())
    case("union union_all filter limit", lambda s: one(s, 1).union(one(s, 2)).union_all(one(s, 3)).filter(A.name != "a2").order_by(A.id.desc()).limit(2).all())
    case("union intersect", lambda s: Q(s).union(one(s, 2)).intersect(Q(s).filter(A.id < 3)).order_by(A.id).all())
    case("except union", lambda s: Q(s).filter(A.id < 4).except_(one(s, 2)).union(one(s, 4)).order_by(A.id).all())
    case("union of unions", lambda s: one(s, 1).union(one(s, 2)).union(one(s, 3).union(one(s, 4))).order_by(A.id).all())
    case("union_all of union_all", lambda s: one(s, 1).union_all(one(s, 1)).union_all(one(s, 2)).order_by(A.id).all())
    case("union of union of union", lambda s: one(s, 1).union(one(s, 2)).union(one(s, 3)).union(one(s, 4)).filter(A.id > 1).order_by(A.id).all())
    case("columns union of union", lambda s: s.query(A.name).filter(A.id == 1).union(s.query(A.name).filter(A.id == 2)).union(s.query(A.name).filter(A.id == 3)).order_by(A.name).all())
    case("two columns union of union", lambda s: s.query(A.id, A.name).filter(A.id == 1).union(s.query(A.id, A.name).filter(A.id == 2)).union(s.query(A.id, A.name).filter(A.id == 3)).filter(A.id > 1).order_by(A.id).all())
    def pairs(s, i):
        return s.query(A, B).join(A.bs).filter(B.id == i)
    case("entities union", lambda s: pairs(s, 1).union(pairs(s, 2)).order_by(B.id).all())
    case("entities union of union", lambda s: pairs(s, 1).union(pairs(s, 2)).union(pairs(s, 3)).order_by(B.id).all())
    case("entity and column union", lambda s: s.query(A, A.name).filter(A.id == 1).union(s.query(A, A.name).filter(A.id == 2)).order_by(A.id).all())
    case("entity and column union of union", lambda s: s.query(A, A.name).filter(A.id == 1).union(s.query(A, A.name).filter(A.id == 2)).union(s.query(A, A.name).filter(A.id == 3)).order_by(A.id).all())
    case("subquery with_labels", lambda s: s.query(Q(s).filter(A.id < 3).subquery(with_labels=True)).all())
    case("union subquery", lambda s: s.query(one(s, 1).union(one(s, 2)).subquery()).all())
    def aliased_union(s):
        aa = aliased(A, one(s, 1).union(one(s, 2)).subquery())
        return s.query(aa).order_by(aa.id).all()
    case("aliased union subquery", aliased_union)
    def aliased_union_of_union(s):
        aa = aliased(A, one(s, 1).union(one(s, 2)).union(one(s, 4)).subquery())
        return s.query(aa).filter(aa.id > 1).order_by(aa.id).all()
    case("aliased union of union subquery", aliased_union_of_union)
    def named_alias_union(s):
        aa = aliased(A, name="aa")
        return s.query(aa).filter(aa.id == 1).union(s.query(aa).filter(aa.id == 3)).order_by(aa.id).all()
    case("aliased class union", named_alias_union)
    def anon_alias_union(s):
        aa = aliased(A)
        return s.query(aa).filter(aa.id == 1).union(s.query(aa).filter(aa.id == 3)).union(s.query(aa).filter(aa.id == 4)).order_by(aa.id).all()
    case("anonymous aliased class union of union", anon_alias_union)
    case("union from_self", lambda s: one(s, 1).union(one(s, 2)).from_self().order_by(A.id).all())
    case("union of union count", lambda s: one(s, 1).union(one(s, 2)).union(one(s, 3)).count())
    case("union of union first", lambda s: one(s, 3).union(one(s, 2)).union(one(s, 1)).order_by(A.name).first())
    case("union of union selectinload", lambda s: [(a, a.bs) for a in one(s, 1).union(one(s, 2)).union(one(s, 3)).options(selectinload(A.bs)).order_by(A.id).all()])
    case("limited union", lambda s: Q(s).order_by(A.id).limit(2).union(one(s, 4)).order_by(A.id).all())
    case("union of limited union", lambda s: one(s, 4).union(Q(s).order_by(A.id.desc()).limit(1)).union(one(s, 1)).order_by(A.id).all())
    case("core union in query union", lambda s: one(s, 1).union(select(A).where(A.id == 2)).union(one(s, 3)).order_by(A.id).all())
    U = lambda s: one(s, 1).union(one(s, 2)).union(one(s, 3))
    case("union of union with_entities", lambda s: U(s).with_entities(A.name).order_by(A.name).all())
    case("union of union with_entities count", lambda s: U(s).with_entities(func.count(A.id)).scalar())
    case("union of union join", lambda s: U(s).join(A.bs).order_by(B.id).all())
    case("union of union join target", lambda s: U(s).join(B, A.bs).filter(B.id > 1).order_by(A.id).all())
    case("union of union value", lambda s: U(s).order_by(A.id).value(A.name))
    case("union of union subqueryload", lambda s: [(a, a.cs) for a in U(s).options(subqueryload(A.cs)).order_by(A.id).all()])
    case("union subqueryload", lambda s: [(a, a.cs) for a in one(s, 1).union(one(s, 3)).options(subqueryload(A.cs)).order_by(A.id).all()])
    case("union of union exists", lambda s: s.query(U(s).exists()).scalar())
    case("columns union exists", lambda s: s.query(s.query(A.name).filter(A.id == 1).union(s.query(A.name)).exists()).scalar())
    case("from_self exists", lambda s: s.query(Q(s).from_self().exists()).scalar())
    def aliased_union_exists(s):
        aa = aliased(A, name="aa")
        return s.query(s.query(aa).union(s.query(aa)).exists()).scalar()
    case("aliased class union exists", aliased_union_exists)
    case("functions union of union", lambda s: s.query(func.max(A.id)).union(s.query(func.min(A.id))).union(s.query(func.count(A.id))).all())
    case("union of union joinedload limit", lambda s: [(a, a.bs) for a in U(s).options(joinedload(A.bs)).order_by(A.id).limit(2).all()])
    case("union joinedload limit", lambda s: [(a, a.bs) for a in one(s, 1).union(one(s, 2)).options(joinedload(A.bs)).order_by(A.id.desc()).limit(1).all()])
    case("from_self joinedload limit", lambda s: [(a, a.bs) for a in Q(s).from_self().options(joinedload(A.bs)).order_by(A.id).limit(2).all()])
    case("union of union any", lambda s: U(s).filter(A.bs.any()).order_by(A.id).all())
    case("union of union get", lambda s: U(s).get(2))
    case("union delete", lambda s: one(s, 1).union(one(s, 2)).delete())
    case("hierarchy union of union", lambda s: s.query(E).filter(E.id == 1).union(s.query(E).filter(E.id == 2)).union(s.query(E).filter(E.id == 3)).order_by(E.id).all())
    case("single-table subclass union of union", lambda s: s.query(S).union(s.query(S)).union(s.query(S)).all())
    case("joined subclass union", lambda s: s.query(G).filter(G.id == 1).union(s.query(G).filter(G.id == 4)).order_by(G.id).all())
    # -- eager loads turned off
    def off_aliased(s):
        fa = aliased(F)
        return s.query(fa).enable_eagerloads(False).all()
    case("enable_eagerloads aliased", off_aliased)
    def off_named(s):
        fa = aliased(F, name="ff")
        return s.query(fa).options(joinedload(fa.items)).enable_eagerloads(False).all()
    case("enable_eagerloads aliased option", off_named)
    def off_with_entities(s):
        fa = aliased(F)
        return s.query(fa).enable_eagerloads(False).with_entities(fa).all()
    case("enable_eagerloads with_entities", off_with_entities)
    def off_on(s):
        fa = aliased(F)
        return [(f, f.items) for f in s.query(fa).enable_eagerloads(False).enable_eagerloads(True).all()]
    case("enable_eagerloads off on", off_on)
    case("enable_eagerloads from_self", lambda s: s.query(F).enable_eagerloads(False).from_self().all())
    case("enable_eagerloads from_self on", lambda s: s.query(F).enable_eagerloads(False).from_self().enable_eagerloads(True).all())
    case("from_self eager", lambda s: [(f, f.items) for f in s.query(F).from_self().all()])
    def aliased_from_self(s):
        fa = aliased(F, name="ff")
        return s.query(fa).from_self().all()
    case("aliased from_self", aliased_from_self)
    def aliased_union_off(s):
        fa = aliased(F, name="ff")
        return s.query(fa).enable_eagerloads(False).union(s.query(fa)).all()
    case("enable_eagerloads union", aliased_union_off)
    case("union eager", lambda s: [(f, f.items) for f in s.query(F).filter(F.id == 1).union(s.query(F)).all()])
    case("cte of eager query", lambda s: s.query(aliased(F, s.query(F).cte())).all())
    case("subquery of eager query", lambda s: s.query(aliased(F, s.query(F).subquery())).all())
    case("enable_eagerloads count", lambda s: s.query(aliased(F)).enable_eagerloads(False).count())
    case("get of aliased", lambda s: s.query(aliased(F)).get(1))
    case("session get of aliased", lambda s: s.get(aliased(F), 1))
    def select_lazy_star(s):
        fa = aliased(F)
        return s.execute(select(fa).options(lazyload("*"))).scalars().all()
    case("select aliased lazyload star", select_lazy_star)
    # -- the order of the loaders' statements
    def rows(q):
        return [(a, a.bs, a.cs) for a in q.order_by(A.id).all()]
    case("immediateload", lambda s: rows(Q(s).options(immediateload(A.bs))))
    case("immediateload selectinload", lambda s: rows(Q(s).options(immediateload(A.bs), selectinload(A.cs))))
    case("selectinload immediateload", lambda s: rows(Q(s).options(selectinload(A.cs), immediateload(A.bs))))
    case("immediateload nested selectinload", lambda s: rows(Q(s).options(selectinload(A.cs), immediateload(A.bs).selectinload(B.ds))))
    case("selectinload nested immediateload", lambda s: rows(Q(s).options(selectinload(A.bs).immediateload(B.ds))))
    case("selectinload nested", lambda s: rows(Q(s).options(selectinload(A.bs).selectinload(B.ds))))
    case("subqueryload nested selectinload", lambda s: rows(Q(s).options(subqueryload(A.bs).selectinload(B.ds))))
    case("selectinload subqueryload", lambda s: rows(Q(s).options(selectinload(A.cs), subqueryload(A.bs))))
    case("immediateload subqueryload", lambda s: rows(Q(s).options(immediateload(A.cs), subqueryload(A.bs))))
    case("subqueryload nested selectinload selectinload", lambda s: rows(Q(s).options(subqueryload(A.bs).selectinload(B.ds), selectinload(A.cs))))
    case("selectinload nested subqueryload", lambda s: rows(Q(s).options(selectinload(A.bs).subqueryload(B.ds))))
    case("selectinload siblings", lambda s: rows(Q(s).options(selectinload(A.bs), selectinload(A.cs))))
    case("selectinload siblings reversed", lambda s: rows(Q(s).options(selectinload(A.cs), selectinload(A.bs))))
    case("selectinload siblings nested", lambda s: rows(Q(s).options(selectinload(A.bs).selectinload(B.ds), selectinload(A.cs))))
    case("subqueryload siblings nested", lambda s: rows(Q(s).options(subqueryload(A.bs).selectinload(B.ds), subqueryload(A.cs))))


def run(url):
    """The scenarios' lines on one database, by label, in order."""
    env = dict(os.environ, SO_URL=url)
    text = subprocess.run([sys.executable, __file__], env=env, check=True,
                          capture_output=True, text=True).stdout
    out, order, cur = {}, [], None
    for line in text.split("\n"):
        if line.startswith("== "):
            cur = line[3:]
            order.append(cur)
            out[cur] = []
        elif cur is not None and (line.startswith("SQL ") or
                                  line[:2] in ("R ", "E ")):
            out[cur].append(line)
    return out, order


def lstr(s):
    if "\\" in s:
        return "[[" + s + "]]"
    return '"' + s.replace('"', '\\"') + '"'


def entry(lines):
    return "{" + ",\n    ".join(lstr(l) for l in lines) + "}"


def main():
    base, order = run("sqlite://")
    res = ["-- BEGIN EXPECT (tests/oracle/gen_query_setops.py)",
           "local EXPECT = {sqlite = {"]
    for k in order:
        res.append("  [%s] = %s," % (lstr(k), entry(base[k])))
    res.append("}}")
    urls = {
        "postgresql": os.environ.get("RETORT_TEST_PG", "").replace(
            "postgresql://", "postgresql+psycopg2://", 1),
        "mysql": os.environ.get("RETORT_TEST_MYSQL", "").replace(
            "mysql://", "mysql+mysqldb://", 1),
    }
    for d in ("postgresql", "mysql"):
        if not urls[d]:
            sys.exit("gen_query_setops: RETORT_TEST_PG and RETORT_TEST_MYSQL "
                     "must be set (scripts/test-servers)")
        other, _ = run(urls[d])
        res.append("-- (where %s's SQL or results differ from SQLite's)" % d)
        res.append("EXPECT.%s = {" % d)
        for k in order:
            if other.get(k) != base[k]:
                res.append("  [%s] = %s," % (lstr(k), entry(other[k])))
        res.append("}")
    res.append("-- END EXPECT")
    src = open(TEST).read()
    a = src.index("-- BEGIN EXPECT")
    b = src.index("-- END EXPECT") + len("-- END EXPECT")
    open(TEST, "w").write(src[:a] + "\n".join(res) + src[b:])


if __name__ == "__main__":
    if os.environ.get("SO_URL"):
        scenarios(os.environ["SO_URL"])
    else:
        main()
