# Residents who joined an appeal about the same problem: what they hear about it.

follower-notice-taken = Обращение № { $number }, к которому вы присоединились, взято в работу: { $agency }.
follower-notice-answer = <b>Ответ по обращению № { $number }</b>, к которому вы присоединились ({ $agency }):
    { $text }
follower-notice-solved-answer = <b>Обращение № { $number } решено</b>, вы к нему присоединились ({ $agency }):
    { $text }
follower-notice-solved = По обращению № { $number }, к которому вы присоединились, ведомство сообщает: проблема решена.
follower-notice-rejected =
    Обращение № { $number }, к которому вы присоединились, отклонено.
    Причина: { $reason }. { $text }
follower-notice-redirected = Обращение № { $number }, к которому вы присоединились, передано в другое ведомство: { $agency }.
follower-notice-extended = Срок ответа по обращению № { $number }, к которому вы присоединились, продлён до { $deadline }. Причина: { $reason }
follower-notice-returned = Обращение № { $number }, к которому вы присоединились, возвращено в ведомство: { $agency }. Ответ — до { $deadline }.
follower-rated = Спасибо за оценку { $rating }!
follower-my-title = Вы присоединились к обращениям:
follower-my-line = № { $number } от { $date } — { $topic }: { $status }
follower-btn-leave = Не следить за № { $number }
follower-left = Вы больше не следите за обращением № { $number }.
follower-not-following = Вы не следите за этим обращением.

# On the agency's card (staff chat).
desk-card-followers =
    { $count ->
        [one] +{ $count } житель сообщил о том же
        [few] +{ $count } жителя сообщили о том же
       *[many] +{ $count } жителей сообщили о том же
    }
