# orm_tutorial.py -- the ORM tutorial (SQLAlchemy docs 2.1.3-2.1.16) run
# on SQLAlchemy 1.4 to produce the output
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

# statements the session runs, as "VERB table" (printed per section)
from sqlalchemy import ForeignKey, Text, event
from sqlalchemy.orm import backref, joinedload, relationship, with_parent
import re

log = []


@event.listens_for(engine, "before_cursor_execute")
def _capture(conn, cursor, statement, parameters, context, executemany):
    m = (re.match(r"INSERT INTO (\S+)", statement) or
         re.match(r"UPDATE (\S+)", statement) or
         re.match(r"DELETE FROM (\S+)", statement))
    verb = statement.split()[0]
    log.append("%s %s" % (verb, m.group(1)) if m else verb)


def statements(label):
    show(label, ", ".join(log))
    del log[:]


# 2.1.12
class Address(Base):
    __tablename__ = "addresses"
    id = Column(Integer, primary_key=True)
    email_address = Column(String, nullable=False)
    user_id = Column(Integer, ForeignKey("users.id"))
    user = relationship(User, backref=backref("addresses", order_by=id))

    def __repr__(self):
        return "<Address('%s')>" % self.email_address


Base.metadata.create_all(engine)
show("2.1.12 tables", sorted(Base.metadata.tables))

# 2.1.13
session = Session()
jack = User(name="jack", fullname="Jack Bean", password="gjffdd")
show("2.1.13 addresses", jack.addresses)
jack.addresses = [Address(email_address="jack@google.com"),
                  Address(email_address="j25@yahoo.com")]
show("2.1.13 addresses[1]", jack.addresses[1])
show("2.1.13 addresses[1].user", jack.addresses[1].user)
session.add(jack)
del log[:]
session.commit()
statements("2.1.13 commit")
jack = session.query(User).filter_by(name="jack").one()
show("2.1.13 jack", jack)
statements("2.1.13 query")
show("2.1.13 lazy", jack.addresses)
statements("2.1.13 lazy load")
session.close()
session = Session()
jack = session.query(User).options(joinedload(User.addresses)).filter_by(
    name="jack").one()
show("2.1.13 joinedload", jack.addresses)
statements("2.1.13 joinedload")

# 2.1.14
for u, a in session.query(User, Address).filter(
        User.id == Address.user_id).filter(
        Address.email_address == "jack@google.com").all():
    print(u, a)
show("2.1.14 join", session.query(User).join(Address).filter(
    Address.email_address == "jack@google.com").all())
show("2.1.14 join rel", session.query(User).join(User.addresses).filter(
    Address.email_address == "jack@google.com").all())
show("2.1.14 join target rel", session.query(User).join(
    Address, User.addresses).filter(
    Address.email_address == "jack@google.com").all())
for name, in session.query(User.name).filter(User.addresses.any()):
    show("2.1.14 any", name)
for name, in session.query(User.name).filter(
        User.addresses.any(Address.email_address.like("%google%"))):
    show("2.1.14 any like", name)
show("2.1.14 not has", session.query(Address).filter(
    ~Address.user.has(User.name == "jack")).all())
show("2.1.14 ==", session.query(Address).filter(Address.user == jack)
     .order_by(Address.id).all())
show("2.1.14 contains", session.query(User).filter(
    User.addresses.contains(jack.addresses[0])).all())
show("2.1.14 with_parent", session.query(Address).filter(
    with_parent(jack, User.addresses)).order_by(Address.id).all())
del log[:]

# 2.1.15
session.delete(jack)
show("2.1.15 count", session.query(User).filter_by(name="jack").count())
statements("2.1.15 delete")
show("2.1.15 addresses left", session.query(Address).filter(
    Address.email_address.in_(["jack@google.com", "j25@yahoo.com"])).count())
session.commit()

# 2.1.16
post_keywords = Table("post_keywords", Base.metadata,
                      Column("post_id", Integer, ForeignKey("posts.id")),
                      Column("keyword_id", Integer,
                             ForeignKey("keywords.id")))


class BlogPost(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"))
    headline = Column(String(255), nullable=False)
    body = Column(Text)
    keywords = relationship("Keyword", secondary=post_keywords,
                            backref="posts")
    author = relationship(User, backref="posts")

    def __repr__(self):
        return "BlogPost(%r, %r, %r)" % (self.headline, self.body,
                                         self.author)


class Keyword(Base):
    __tablename__ = "keywords"
    id = Column(Integer, primary_key=True)
    keyword = Column(String(50), nullable=False, unique=True)

    def __repr__(self):
        return "Keyword(%r)" % self.keyword


Base.metadata.create_all(engine)
session = Session()
wendy = session.query(User).filter_by(name="wendy").one()
post = BlogPost(headline="Wendy's Blog Post", body="This is a test",
                author=wendy)
session.add(post)
post.keywords.append(Keyword(keyword="wendy"))
post.keywords.append(Keyword(keyword="firstpost"))
del log[:]
show("2.1.16 any", session.query(BlogPost).filter(
    BlogPost.keywords.any(Keyword.keyword == "firstpost")).all())
statements("2.1.16 flush and query")
show("2.1.16 author", session.query(BlogPost).filter(
    BlogPost.author == wendy).filter(
    BlogPost.keywords.any(Keyword.keyword == "firstpost")).all())
show("2.1.16 posts", wendy.posts)
show("2.1.16 keyword posts", post.keywords[1].posts)
session.close()

# the same tables mapped again, with delete and delete-orphan cascade
Base2 = declarative_base()


class User2(Base2):
    __table__ = User.__table__
    addresses = relationship("Address2", backref=backref("user", overlaps="addresses,user"),
                             cascade="all, delete, delete-orphan",
                             overlaps="addresses,user,posts")

    def __repr__(self):
        return "<User('%s','%s', '%s')>" % (self.name, self.fullname,
                                            self.password)


class Address2(Base2):
    __table__ = Address.__table__

    def __repr__(self):
        return "<Address('%s')>" % self.email_address


session = Session()
jack = User2(name="jack", fullname="Jack Bean", password="gjffdd")
jack.addresses = [Address2(email_address="jack@google.com"),
                  Address2(email_address="j25@yahoo.com")]
session.add(jack)
session.commit()
jid = jack.id
session.close()
jack = session.get(User2, jid)
del log[:]
del jack.addresses[1]
statements("2.1.15 lazy load")
show("2.1.15 orphan count", session.query(Address2).filter(
    Address2.user_id == jid).count())
statements("2.1.15 orphan")
session.delete(jack)
show("2.1.15 cascade count", session.query(User2).filter_by(
    name="jack").count())
statements("2.1.15 cascade")
show("2.1.15 addresses left", session.query(Address2).filter(
    Address2.user_id == jid).count())
session.close()
