// PayloadBody: a Boost.Beast body that sends part of a shared payload
// without copying it (a hit costs a reference count, as on gRPC).
#ifndef CLUSTERCACHE_SERVER_HTTP_PAYLOAD_BODY_H_
#define CLUSTERCACHE_SERVER_HTTP_PAYLOAD_BODY_H_

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace clustercache {

struct PayloadBody {
  struct value_type {
    std::shared_ptr<const std::string> payload;  // null: no body
    size_t offset = 0;
    size_t length = 0;
  };

  static std::uint64_t size(const value_type& v) { return v.length; }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>&,
           const value_type& body)
        : body_(body) {}

    void init(boost::beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(
        boost::beast::error_code& ec) {
      ec = {};
      if (sent_ || body_.payload == nullptr || body_.length == 0) {
        return boost::none;
      }
      sent_ = true;
      return {{const_buffers_type(body_.payload->data() + body_.offset,
                                  body_.length),
               false}};
    }

   private:
    const value_type& body_;
    bool sent_ = false;
  };
};

using HttpResponse = boost::beast::http::response<PayloadBody>;

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_HTTP_PAYLOAD_BODY_H_
