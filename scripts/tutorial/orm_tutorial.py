# orm_tutorial.py -- the ORM tutorial (SQLAlchemy docs 2.1.3-2.1.11, the
# parts without relationships) run on SQLAlchemy 1.4 to produce the output
# orm_tutorial.lua must print.  Regenerate the expected output with:
#   /usr/bin/python3 scripts/tutorial/orm_tutorial.py > scripts/tutorial/orm_tutorial.expected
from sqlalchemy import (Column, Integer, MetaData, String, Table,
                        create_engine, func, text)
from sqlalchemy.orm import declarative_base, registry, sessionmaker
from sqlalchemy.orm.exc import MultipleResultsFound, NoResultFound


def show(label, value):
    print("%s: %s" % (label, value))


def pylist(items):
    return "[" + ", ".join(repr(x) for x in items) + "]"


# 2.1.3 - 2.1.4
engine = create_engine("sqlite://", future=True)
metadata = MetaData()
users_table = Table("users", metadata,
                    Column("id", Integer, primary_key=True),
                    Column("name", String),
                    Column("fullname", String),
                    Column("password", String))
metadata.create_all(engine)
show("2.1.4 columns", [c.name for c in users_table.c])


# 2.1.5 - 2.1.6: classical mapping
class PlainUser(object):
    def __repr__(self):
        return "<User('%s','%s', '%s')>" % (self.name, self.fullname,
                                            self.password)


registry().map_imperatively(PlainUser, users_table)
ed = PlainUser()
ed.name, ed.fullname, ed.password = "ed", "Ed Jones", "edspassword"
show("2.1.6 name", ed.name)
show("2.1.6 password", ed.password)
show("2.1.6 id", str(ed.id))

# 2.1.7: declarative
Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    fullname = Column(String)
    password = Column(String)

    def __repr__(self):
        return "<User('%s','%s', '%s')>" % (self.name, self.fullname,
                                            self.password)


show("2.1.7 table", User.__table__.name)
Base.metadata.create_all(engine)

# 2.1.8 - 2.1.9
Session = sessionmaker(bind=engine, future=True)
session = Session()
ed_user = User(name="ed", fullname="Ed Jones", password="edspassword")
session.add(ed_user)
our_user = session.query(User).filter_by(name="ed").first()
show("2.1.9 our_user", our_user)
show("2.1.9 same object", ed_user is our_user)
session.add_all([
    User(name="wendy", fullname="Wendy Williams", password="foobar"),
    User(name="mary", fullname="Mary Contrary", password="xxg527"),
    User(name="fred", fullname="Fred Flinstone", password="blah")])
ed_user.password = "f8s7ccs"
show("2.1.9 dirty", pylist(session.dirty))
show("2.1.9 new", pylist(session.new))
session.commit()
show("2.1.9 id", ed_user.id)

# 2.1.10
ed_user.name = "Edwardo"
fake_user = User(name="fakeuser", fullname="Invalid", password="12345")
session.add(fake_user)
show("2.1.10 flushed", pylist(
    session.query(User).filter(User.name.in_(["Edwardo", "fakeuser"])).all()))
session.rollback()
show("2.1.10 name", ed_user.name)
show("2.1.10 fake in session", fake_user in session)
show("2.1.10 after", pylist(
    session.query(User).filter(User.name.in_(["ed", "fakeuser"])).all()))

# 2.1.11
for instance in session.query(User).order_by(User.id):
    print(instance.name, instance.fullname)
for name, fullname in session.query(User.name, User.fullname):
    print(name, fullname)
for row in session.query(User, User.name).all():
    print(row.User, row.name)
for u in session.query(User).order_by(User.id)[1:3]:
    print(u)
for name, in session.query(User.name).filter_by(fullname="Ed Jones"):
    print(name)
for name, in session.query(User.name).filter(User.fullname == "Ed Jones"):
    print(name)
for user in session.query(User).filter(User.name == "ed").filter(
        User.fullname == "Ed Jones"):
    print(user)
query = session.query(User).filter(User.name.like("%ed")).order_by(User.id)
show("2.1.11 all", pylist(query.all()))
show("2.1.11 first", query.first())
try:
    user = query.one()
except MultipleResultsFound as e:
    show("2.1.11 one", e)
try:
    user = query.filter(User.id == 99).one()
except NoResultFound as e:
    show("2.1.11 one", e)
for user in session.query(User).filter(text("id<224")).order_by(
        text("id")).all():
    print(user.name)
show("2.1.11 params", session.query(User).filter(
    text("id<:value and name=:name")).params(value=224, name="fred")
    .order_by(User.id).one())
show("2.1.11 count", session.query(User).filter(User.name.like("%ed")).count())
show("2.1.11 count columns", session.query(User.id, User.name).filter(
    User.name.like("%ed")).count())
show("2.1.11 count groups",
     session.query(User.name).group_by(User.name).count())
show("2.1.11 func.count", pylist(
    session.query(func.count(User.name), User.name).group_by(User.name)
    .order_by(User.name).all()))
