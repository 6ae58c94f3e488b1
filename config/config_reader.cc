#include "config/config_reader.h"

#include "common/quantity.h"

namespace topod::agent {

namespace {

std::string_view typeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "an unknown type";
}

}  // namespace

TableReader::TableReader(const toml::table& table, std::string prefix, std::string source,
                         std::vector<std::string>& problems)
    : table_(table), prefix_(std::move(prefix)), source_(std::move(source)), problems_(problems) {}

const toml::node* TableReader::find(std::string_view key) {
  seen_.insert(std::string(key));
  return table_.get(key);
}

std::string TableReader::dotted(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

std::string TableReader::where(const toml::source_region& region) const {
  if (region.begin.line == 0) return source_;
  return source_ + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
}

void TableReader::problem(std::string_view key, const std::string& reason) {
  const toml::node* node = table_.get(key);
  const toml::source_region& region = node != nullptr ? node->source() : table_.source();
  problems_.push_back(where(region) + ": " + dotted(key) + ": " + reason);
}

void TableReader::wrongType(std::string_view key, const toml::node& node, std::string_view expected) {
  problem(key, "expected " + std::string(expected) + ", got " + std::string(typeName(node.type())));
}

bool TableReader::readBool(std::string_view key, bool& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return false;
  if (const auto* b = node->as_boolean()) {
    out = b->get();
    return true;
  }
  wrongType(key, *node, "a boolean (true or false)");
  return false;
}

bool TableReader::readInt(std::string_view key, int64_t min, int64_t max, int64_t& out, bool required) {
  const toml::node* node = find(key);
  if (node == nullptr) {
    if (required) problem(key, "is required");
    return false;
  }
  const auto* i = node->as_integer();
  if (i == nullptr) {
    wrongType(key, *node, "an integer");
    return false;
  }
  if (i->get() < min || i->get() > max) {
    problem(key,
            std::to_string(i->get()) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return false;
  }
  out = i->get();
  return true;
}

bool TableReader::readString(std::string_view key, std::string& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return false;
  if (const auto* s = node->as_string()) {
    out = s->get();
    return true;
  }
  wrongType(key, *node, "a string");
  return false;
}

bool TableReader::readQuantity(std::string_view key, uint64_t& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return false;
  if (const auto* i = node->as_integer()) {
    if (i->get() < 0) {
      problem(key, "must not be negative");
      return false;
    }
    out = static_cast<uint64_t>(i->get());
    return true;
  }
  if (const auto* s = node->as_string()) {
    auto bytes = parseByteQuantity(s->get());
    if (!bytes.has_value()) {
      problem(key, bytes.error().message());
      return false;
    }
    out = *bytes;
    return true;
  }
  wrongType(key, *node, "a byte count or a quantity string such as \"1Gi\"");
  return false;
}

void TableReader::readSubtable(std::string_view key, const std::function<void(TableReader&)>& fn, bool required) {
  const toml::node* node = find(key);
  if (node == nullptr) {
    if (required) problem(key, "is required");
    return;
  }
  const auto* sub = node->as_table();
  if (sub == nullptr) {
    wrongType(key, *node, "a table");
    return;
  }
  TableReader reader(*sub, dotted(key), source_, problems_);
  fn(reader);
}

void TableReader::readTableArray(std::string_view key, const std::function<void(TableReader&)>& fn) {
  const toml::node* node = find(key);
  if (node == nullptr) return;
  const auto* array = node->as_array();
  if (array == nullptr) {
    wrongType(key, *node, "an array of tables ([[" + dotted(key) + "]])");
    return;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string name = dotted(key) + "[" + std::to_string(i) + "]";
    const auto* sub = element.as_table();
    if (sub == nullptr) {
      problems_.push_back(where(element.source()) + ": " + name + ": expected a table, got " +
                          std::string(typeName(element.type())));
      continue;
    }
    TableReader reader(*sub, name, source_, problems_);
    fn(reader);
  }
}

void TableReader::readEveryKey(const std::function<void(const std::string&)>& fn) {
  for (auto&& [key, value] : table_) {
    (void)value;
    fn(std::string(key.str()));
  }
}

void TableReader::finish() {
  for (auto&& [key, value] : table_) {
    if (seen_.count(key.str()) != 0) continue;
    const toml::source_region& region = key.source().begin.line != 0 ? key.source() : value.source();
    problems_.push_back(where(region) + ": " + dotted(key.str()) + ": unknown key");
  }
}

}  // namespace topod::agent
