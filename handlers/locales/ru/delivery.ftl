# What the outbox sender says about deliveries: reports to staff chats and admin alerts.
# Arguments are HTML-escaped by handlers.texts.

# Why a message did not reach its addressee, in plain words.
delivery-reason =
    { $reason ->
        [blocked] житель заблокировал бота или запретил ему писать
        [chat_not_found] чат не найден
        [forbidden] бота удалили из чата или запретили ему писать
        [bad_request] платформа отклонила сообщение
        [gave_up] платформа не принимала сообщение трое суток
        [too_old] платформа позволяет боту удалять свои сообщения только в первые часы (Telegram — 48 часов, VK — 24 часа)
       *[other] неизвестная ошибка
    }

# What kind of message it was (purposes written by send_later callers).
delivery-purpose =
    { $purpose ->
        [card] карточка обращения
        [reply] ответ бота на сообщение в чате
        [card_edit] обновление карточки обращения
        [prompt] подсказка сотруднику
        [answer] ответ жителю
        [notice] уведомление жителю
        [feedback] вопрос жителю о решении и оценке
        [reminder] напоминание о сроке
        [escalation] сообщение о просрочке
        [extension] сообщение о продлении срока
        [contest] возражение жителя на отказ
        [reopen] сообщение о повторном открытии
        [details] дополнение к обращению
        [digest] еженедельный дайджест
       *[other] сообщение ({ $purpose })
    }

# To the staff chat that answered: the answer reached the resident.
delivery-report-delivered =
    { $purpose ->
        [extension] ✅ Житель получил причину продления срока по обращению № { $number }.
       *[other] ✅ Ответ по обращению № { $number } доставлен жителю.
    }
delivery-report-delivered-no-number = ✅ Ответ доставлен жителю.

# To the staff chat that answered: the answer did not reach the resident.
delivery-report-failed =
    { $reason ->
        [blocked] ⚠️ Житель заблокировал бота — ответ по обращению № { $number } не доставлен.
       *[other] ⚠️ Ответ по обращению № { $number } не доставлен жителю: { $why }.
    }
delivery-report-failed-no-number =
    { $reason ->
        [blocked] ⚠️ Житель заблокировал бота — ответ не доставлен.
       *[other] ⚠️ Ответ не доставлен жителю: { $why }.
    }

# To the admin chats: an appeal's card did not reach the agency chat.
delivery-alert-card =
    ⚠️ <b>Карточка обращения № { $number } не доставлена</b>
    Куда: { $chat }
    Причина: { $why }
    Статус обращения не изменён: перенаправьте его в другое ведомство.

# To the admin chats: any other message that could not be delivered.
delivery-alert-message =
    ⚠️ <b>Сообщение не доставлено</b>
    Куда: { $chat }
    Что: { $what }
    Причина: { $why }
delivery-alert-message-appeal =
    ⚠️ <b>Сообщение по обращению № { $number } не доставлено</b>
    Куда: { $chat }
    Что: { $what }
    Причина: { $why }

# How the admin alert names a chat: the agency's name when the chat is an agency's.
delivery-chat-agency = { $agency } ({ $chat })

# A screen the platform refused, sent again as plain text (handlers.typed_choices).
plain-choices-intro = Кнопки не удалось показать. Чтобы выбрать, отправьте номер:
plain-choice = { $number } — { $label }
plain-link = { $label }: { $url }
plain-empty = Не удалось показать сообщение. Отправьте /start, чтобы продолжить.

# To the admin chats, once per screen and reason.
plain-alert =
    ⚠️ <b>Экран не показан жителю</b>
    Платформа: { $platform }
    Экран: { $screen }
    Причина: { $why }
    Житель получил его простым текстом, варианты — номерами.
delivery-alert-delete = ⚠️ Житель отозвал согласие, но бот не смог удалить фото, геометку или слова жителя по обращению № { $number } в чате { $chat }: { $why }. Удалите их вручную.
